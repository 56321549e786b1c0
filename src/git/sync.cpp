#include "git/sync.hpp"

#include <rapidjson/document.h>

#include "hooks/runner.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::git {
namespace {

constexpr std::pair<ErrorCode, std::string_view> kCodeNames[] = {
    {ErrorCode::kInvalidArgument, "invalid_argument"},
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kAlreadyExists, "already_exists"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kUnauthenticated, "unauthenticated"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kIo, "io"},
    {ErrorCode::kInternal, "internal"},
};

std::string_view CodeName(ErrorCode c) {
  for (const auto& [code, name] : kCodeNames) {
    if (code == c) return name;
  }
  return "internal";
}

ErrorCode CodeFromName(std::string_view n) {
  for (const auto& [code, name] : kCodeNames) {
    if (name == n) return code;
  }
  return ErrorCode::kInternal;
}

// The last few lines of the child's stderr, for an error that has nothing better.
std::string Tail(std::string_view text, std::size_t max = 600) {
  text = Trim(text);
  if (text.size() > max) text = text.substr(text.size() - max);
  return std::string(text);
}

}  // namespace

std::string FormatSyncLine(const Expected<SyncResult>& result) {
  std::string out;
  if (result) {
    out = "{\"ok\":true,\"commit\":\"";
    json::AppendEscaped(out, result->commit);
    out += "\",\"fetched\":";
    out += result->fetched ? "true" : "false";
    out += ",\"changed\":";
    out += result->changed ? "true" : "false";
    out += "}";
    return out;
  }
  out = "{\"ok\":false,\"error\":\"";
  json::AppendEscaped(out, result.error().What());
  out += "\",\"code\":\"";
  out += CodeName(result.error().code);
  out += "\"}";
  return out;
}

Expected<SyncResult> ParseSyncLine(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("ok") || !doc["ok"].IsBool()) {
    return Fail(ErrorCode::kInternal, "the sync child answered something that is not its JSON line");
  }
  if (!doc["ok"].GetBool()) {
    std::string msg =
        doc.HasMember("error") && doc["error"].IsString() ? doc["error"].GetString() : "unknown error";
    ErrorCode code = doc.HasMember("code") && doc["code"].IsString() ? CodeFromName(doc["code"].GetString())
                                                                     : ErrorCode::kInternal;
    return Fail(code, std::move(msg));
  }
  if (!doc.HasMember("commit") || !doc["commit"].IsString()) {
    return Fail(ErrorCode::kInternal, "the sync child's answer has no commit");
  }
  SyncResult r;
  r.commit = doc["commit"].GetString();
  r.fetched = doc.HasMember("fetched") && doc["fetched"].IsBool() && doc["fetched"].GetBool();
  r.changed = doc.HasMember("changed") && doc["changed"].IsBool() && doc["changed"].GetBool();
  return r;
}

Expected<SyncResult> SyncInChild(const config::Config& config, const std::string& podcd_binary) {
  hooks::ChildSpec spec;
  spec.argv = {podcd_binary, "__sync"};
  // The child must see exactly this configuration, whatever the parent's environment or
  // configuration file says: every configuration variable is dropped and the repository
  // settings set explicitly (__sync reads no default configuration file).
  for (const auto& key : config::DescribeKeys()) {
    for (const auto& name : key.env) spec.env_remove.push_back(name);
  }
  spec.env_remove.push_back("PODCD_CONFIG");
  const auto& r = config.repo;
  spec.env_set = {
      {"PODCD_REPO_PATH", r.path},
      {"PODCD_REPO_URL", r.url},
      {"PODCD_REPO_BRANCH", r.branch},
      {"PODCD_SERVICES_DIR", r.services_dir.empty() ? "services" : r.services_dir},
      {"PODCD_SECRETS_DIR", r.secrets_dir.empty() ? "secrets" : r.secrets_dir},
      {"PODCD_REPO_TOKEN", r.token},
      {"PODCD_REPO_SSH_KEY_FILE", r.ssh_key_file},
      {"PODCD_REPO_KNOWN_HOSTS_FILE", r.known_hosts_file},
      {"PODCD_REPO_SYNC_TIMEOUT", FormatDuration(r.sync_timeout)},
      {"PODCD_STATE_DIR", config.state_dir},
      {"PODCD_LOG_FORMAT", "json"},
      {"PODCD_LOG_LEVEL", std::string(log::ToString(config.log.level))},
      // Required by validation, unused by the child: it never gets the real secret.
      {"PODCD_WEBHOOK_SECRET", "unused-by-the-sync-child-process"},
  };
  spec.timeout = r.sync_timeout.count() > 0 ? r.sync_timeout : std::chrono::minutes(2);
  spec.max_output_bytes = 256 * 1024;

  auto child = hooks::RunChild(spec);
  if (!child) return std::unexpected(child.error().WithContext("repo sync child"));
  // The child's own log lines (JSON) are passed on at debug level.
  if (log::Enabled(log::Level::kDebug)) {
    std::string_view err = child->err;
    while (!err.empty()) {
      auto nl = err.find('\n');
      auto line = Trim(err.substr(0, nl));
      if (!line.empty()) log::Debug("sync child", {{"line", line}});
      if (nl == std::string_view::npos) break;
      err.remove_prefix(nl + 1);
    }
  }
  if (child->timed_out) {
    return Fail(ErrorCode::kTimeout,
                "repository sync did not finish within " + FormatDuration(spec.timeout) +
                    " (repo.sync_timeout); the sync process was killed",
                r.url.empty() ? r.path : r.url);
  }
  std::string_view out = Trim(child->out);
  if (auto nl = out.rfind('\n'); nl != std::string_view::npos) out = out.substr(nl + 1);
  if (out.empty()) {
    return Fail(ErrorCode::kInternal,
                "the sync child exited with status " + std::to_string(child->exit_code) +
                    " without an answer: " + Tail(child->err),
                podcd_binary);
  }
  return ParseSyncLine(out);
}

}  // namespace podcd::git
