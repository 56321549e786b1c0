// Commit statuses: what a deployment did to a commit, shown beside it in the forge (GitHub,
// Gitea/Forgejo, GitLab), one status per context: `podcd` for the deployment, `podcd/<stack>`
// for each stack. A status posted again on the same context replaces the one before, so
// pending -> success/failure needs no bookkeeping here.
#include <string>
#include <string_view>

#include "notify/formats.hpp"
#include "notify/text.hpp"
#include "util/json.hpp"

namespace podcd::notify {
namespace {

using Forge = config::Config::Forge;

// GitHub keeps a status's description to 140 characters (and refuses a longer one); the same
// bound serves Gitea and GitLab, whose pages show it on one line.
constexpr std::size_t kDescriptionMax = 140;

enum class State { kPending, kSuccess, kFailure };

// The commit id, lowercase, when it is a full SHA-1 (40) or SHA-256 (64) id; "" otherwise
// (a branch name or a short id would mark whatever commit it names when the status is read).
std::string FullSha(std::string_view commit) {
  if (commit.size() != 40 && commit.size() != 64) return {};
  std::string sha;
  for (char c : commit) {
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return {};
    sha += c;
  }
  return sha;
}

// RFC 3986 percent-encoding of everything but the unreserved characters: a path segment that
// cannot leave its segment (GitLab's "group/sub/project" becomes one: group%2Fsub%2Fproject).
std::string EncodeSegment(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0xf];
    }
  }
  return out;
}

// The API's base URL: the configured one or the forge's public default, with the API path
// appended to a bare Gitea or GitLab server; "" when there is none (Gitea has no default).
std::string ApiBase(const Forge& forge) {
  std::string_view url = forge.api_url;
  while (url.ends_with('/')) url.remove_suffix(1);
  if (forge.type == "github") return url.empty() ? "https://api.github.com" : std::string(url);
  if (forge.type == "gitlab") {
    if (url.empty()) return "https://gitlab.com/api/v4";
    return url.ends_with("/api/v4") ? std::string(url) : std::string(url) + "/api/v4";
  }
  if (forge.type == "gitea" && !url.empty()) {
    return url.ends_with("/api/v1") ? std::string(url) : std::string(url) + "/api/v1";
  }
  return {};
}

// The statuses endpoint of the commit; "" when the repository cannot be named.
//  GitHub: POST /repos/{owner}/{repo}/statuses/{sha}
//    (https://docs.github.com/en/rest/commits/statuses#create-a-commit-status)
//  Gitea/Forgejo: POST /repos/{owner}/{repo}/statuses/{sha} under /api/v1
//    (https://gitea.com/api/swagger#/repository/repoCreateStatus)
//  GitLab: POST /projects/{id}/statuses/{sha} under /api/v4, id the number or the encoded path
//    (https://docs.gitlab.com/ee/api/commits.html#set-the-pipeline-status-of-a-commit)
std::string StatusUrl(const Forge& forge, const std::string& sha) {
  const std::string base = ApiBase(forge);
  // "." and ".." would be dot segments, which a client or proxy resolves away.
  const auto named = [](std::string_view part) { return !part.empty() && part != "." && part != ".."; };
  if (base.empty() || !named(forge.repository)) return {};
  if (forge.type == "gitlab")
    return base + "/projects/" + EncodeSegment(forge.repository) + "/statuses/" + sha;
  const std::string_view repo(forge.repository);
  const std::size_t slash = repo.find('/');
  if (slash == std::string_view::npos) return {};
  const std::string_view owner = repo.substr(0, slash);
  const std::string_view name = repo.substr(slash + 1);
  if (!named(owner) || !named(name) || name.find('/') != std::string_view::npos) return {};
  return base + "/repos/" + EncodeSegment(owner) + "/" + EncodeSegment(name) + "/statuses/" + sha;
}

std::string_view StateWord(const Forge& forge, State state) {
  const bool gitlab = forge.type == "gitlab";
  switch (state) {
    case State::kPending: return gitlab ? "running" : "pending";
    case State::kSuccess: return "success";
    case State::kFailure: return gitlab ? "failed" : "failure";
  }
  return "failure";
}

std::string Context(const Forge& forge, std::string_view stack) {
  std::string context = "podcd";
  if (!forge.host.empty()) context += "/" + forge.host;
  if (!stack.empty()) context += "/" + std::string(stack);
  return context;
}

Outgoing Status(const Forge& forge, const std::string& url, State state, const std::string& context,
                std::string_view description, const std::string& link) {
  Outgoing out;
  out.target = "forge";
  out.url = url;
  out.headers.emplace_back("Content-Type", "application/json");
  if (forge.type == "github") {
    out.headers.emplace_back("Accept", "application/vnd.github+json");
    out.headers.emplace_back("X-GitHub-Api-Version", "2022-11-28");
    if (!forge.token.empty()) out.headers.emplace_back("Authorization", "Bearer " + forge.token);
  } else if (forge.type == "gitea") {
    out.headers.emplace_back("Accept", "application/json");
    if (!forge.token.empty()) out.headers.emplace_back("Authorization", "token " + forge.token);
  } else if (!forge.token.empty()) {
    out.headers.emplace_back("PRIVATE-TOKEN", forge.token);
  }
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Str(w, "state", StateWord(forge, state));
  // GitLab names the context `name`; GitHub and Gitea `context`.
  json::Str(w, forge.type == "gitlab" ? "name" : "context", context);
  json::Str(w, "description", Truncate(description, kDescriptionMax));
  if (!link.empty()) json::Str(w, "target_url", link);
  w.EndObject();
  out.body.assign(buffer.GetString(), buffer.GetSize());
  return out;
}

std::string Overall(const Notice& n) {
  std::string words = Title(n);
  if (words.starts_with("podcd: ")) words.erase(0, 7);
  if (!n.reason.empty()) words += ": " + n.reason;
  return words;
}

}  // namespace

std::vector<Outgoing> ForgeStatuses(const Forge& forge, const Notice& notice) {
  if (forge.type.empty()) return {};
  const std::string sha = FullSha(notice.commit);
  if (sha.empty()) return {};
  const std::string url = StatusUrl(forge, sha);
  if (url.empty()) return {};

  std::vector<Outgoing> out;
  if (notice.what == What::kStarted) {
    // Without stacks: the deployment's own context; with them, each stack that starts.
    if (notice.stacks.empty())
      out.push_back(Status(forge, url, State::kPending, Context(forge, ""), Overall(notice), notice.link));
    for (const auto& s : notice.stacks) {
      if (s.name.empty()) continue;
      out.push_back(Status(forge, url, State::kPending, Context(forge, s.name),
                           "being deployed by deployment " + notice.deployment, notice.link));
    }
    return out;
  }
  for (const auto& s : notice.stacks) {
    if (s.name.empty() || s.outcome == "skipped" || s.outcome == "suspended") continue;
    const State state = FailedOutcome(s.outcome) ? State::kFailure : State::kSuccess;
    out.push_back(Status(forge, url, state, Context(forge, s.name), s.reason.empty() ? s.outcome : s.reason,
                         notice.link));
  }
  const bool ok = notice.what == What::kSucceeded || notice.what == What::kRecovered;
  out.push_back(Status(forge, url, ok ? State::kSuccess : State::kFailure, Context(forge, ""),
                       Overall(notice), notice.link));
  return out;
}

}  // namespace podcd::notify
