#include "config/notify_config_internal.hpp"

#include <algorithm>

#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/yaml.hpp"

namespace podcd::config {
namespace {

std::string Quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

template <std::size_t N>
bool OneOf(const std::string_view (&words)[N], std::string_view word) {
  return std::find(std::begin(words), std::end(words), word) != std::end(words);
}

template <std::size_t N>
std::string ListOf(const std::string_view (&words)[N]) {
  std::string out;
  for (auto w : words) out += (out.empty() ? "" : ", ") + std::string(w);
  return out;
}

// A name for logs and metric labels: letters, digits, '-', '_', '.'.
bool IsTargetName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '_' || ch == '.';
  });
}

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host.starts_with("127.");
}

// The host of an http(s) URL (without userinfo and port), "" when there is none.
std::string_view HostOf(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  if (rest.starts_with('[')) return rest.substr(0, rest.find(']') + 1);
  return rest.substr(0, rest.find(':'));
}

// Everything after the host: a path and query that may hold a token.
std::string_view PathOf(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const auto slash = url.find_first_of("/?#", scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view() : url.substr(slash);
}

std::optional<std::string> ReadSecret(const std::string& path) {
  auto text = ReadFile(path, std::uintmax_t{64} * 1024);
  if (!text) return std::nullopt;
  std::string v = std::move(*text);
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

// A sequence of scalars, or an error.
std::optional<std::vector<std::string>> Words(const YAML::Node& node, const std::string& file,
                                              const std::string& key, const AddError& add) {
  if (!node.IsSequence()) {
    add(yaml::Where(file, node), key, "expected a sequence, got " + std::string(yaml::Describe(node)));
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar()) {
      add(yaml::Where(file, node[i]), key + "[" + std::to_string(i) + "]",
          "expected a string, got " + std::string(yaml::Describe(node[i])));
      return std::nullopt;
    }
    out.push_back(node[i].Scalar());
  }
  return out;
}

// `on:` (event words, at least one) or `stacks:` (stack names); nullopt after an error.
std::optional<std::vector<std::string>> ReadWords(const YAML::Node& v, const std::string& name,
                                                  const std::string& key, const std::string& file,
                                                  const AddError& add) {
  auto words = Words(v, file, key, add);
  if (!words) return std::nullopt;
  bool ok = true;
  for (std::size_t i = 0; i < words->size(); ++i) {
    const std::string& w = (*words)[i];
    const std::string at = key + "[" + std::to_string(i) + "]";
    if (name == "on" && !OneOf(kNotifyEvents, w)) {
      add(yaml::Where(file, v[i]), at, Quoted(w) + " is not an event; one of " + ListOf(kNotifyEvents));
      ok = false;
    } else if (name == "stacks" && !IsValidStackName(w)) {
      add(yaml::Where(file, v[i]), at, Quoted(w) + " is not a stack name");
      ok = false;
    }
  }
  if (name == "on" && words->empty()) {
    add(yaml::Where(file, v), key, "names no event: the target would hear nothing");
    ok = false;
  }
  if (!ok) return std::nullopt;
  return words;
}

// One branch per key of a target, then the checks across keys.
// NOLINTNEXTLINE(readability-function-size)
std::optional<Config::NotifyTarget> ReadTarget(const YAML::Node& node, std::size_t index,
                                               const std::string& file, const AddError& add) {
  const std::string path = "notify[" + std::to_string(index) + "]";
  if (!node.IsMap()) {
    add(yaml::Where(file, node), path,
        "expected a mapping (type, url, ...), got " + std::string(yaml::Describe(node)));
    return std::nullopt;
  }
  bool ok = true;
  auto bad = [&](const YAML::Node& at, const std::string& key, const std::string& message) {
    add(yaml::Where(file, at), key, message);
    ok = false;
  };
  Config::NotifyTarget t;
  t.on = {"failed", "rolled_back", "recovered"};
  bool allow_insecure = false;
  std::string secret_file;
  YAML::Node url_node;
  YAML::Node secret_node;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "?";
    const std::string key = path + "." + name;
    const YAML::Node v = it->second;
    if (name == "on" || name == "stacks") {
      auto words = ReadWords(v, name, key, file, add);
      if (!words) {
        ok = false;
        continue;
      }
      (name == "on" ? t.on : t.stacks) = std::move(*words);
      continue;
    }
    if (!v.IsScalar()) {
      bad(v, key, "expected a single value, got " + std::string(yaml::Describe(v)));
      continue;
    }
    // A copy: a reference into the node's temporary would dangle (g++ 12 says so).
    const std::string s = v.Scalar();  // NOLINT(performance-unnecessary-copy-initialization)
    if (name == "type") {
      t.type = s;
      if (!OneOf(kNotifyTypes, s))
        bad(v, key, Quoted(s) + " is not a target type; one of " + ListOf(kNotifyTypes));
    } else if (name == "name") {
      t.name = s;
      if (!IsTargetName(s))
        bad(v, key, "expected letters, digits, '-', '_' or '.' (64 at most), got " + Quoted(s));
    } else if (name == "url") {
      t.url = s;
      url_node = v;
    } else if (name == "secret_file" || name == "token_file") {
      if (!secret_file.empty()) {
        bad(v, key, "give one of secret_file and token_file");
        continue;
      }
      secret_file = s;
      secret_node = v;
    } else if (name == "allow_insecure") {
      if (!ParseBool(Trim(s), allow_insecure)) bad(v, key, "expected true or false, got " + Quoted(s));
    } else if (name == "secret" || name == "token") {
      bad(it->first, key,
          "put it in a file and give " + name + "_file: a secret stays out of the configuration");
    } else {
      bad(it->first, key,
          "unknown key (known: type, name, url, secret_file, token_file, on, stacks, allow_insecure)");
    }
  }
  if (t.type.empty()) bad(node, path + ".type", "is required; one of " + ListOf(kNotifyTypes));
  if (t.url.empty()) {
    bad(node, path + ".url", "is required");
  } else if (auto err = CheckNotifyUrl(t.url, allow_insecure)) {
    bad(url_node, path + ".url", *err);
  }
  if (!secret_file.empty()) {
    if (auto secret = ReadSecret(secret_file)) {
      t.secret = std::move(*secret);
      if (t.secret.empty())
        bad(secret_node, path + ".secret_file", "the file " + Quoted(secret_file) + " is empty");
    } else {
      bad(secret_node, path + ".secret_file", "cannot read secret file " + Quoted(secret_file));
    }
  }
  if (t.name.empty()) t.name = t.type + "-" + std::to_string(index);
  if (!ok) return std::nullopt;
  return t;
}

}  // namespace

std::optional<std::string> CheckNotifyUrl(std::string_view url, bool allow_insecure) {
  const bool https = url.starts_with("https://");
  if (!https && !url.starts_with("http://")) return std::string("expected an http:// or https:// URL");
  if (std::any_of(url.begin(), url.end(), [](char ch) { return static_cast<unsigned char>(ch) <= ' '; }))
    return std::string("expected a URL without spaces or control characters");
  const std::string_view host = HostOf(url);
  if (host.empty()) return std::string("expected a URL with a host");
  if (!https && !allow_insecure && !IsLoopbackHost(host))
    return "http:// sends notices and tokens unencrypted: use https://, or set allow_insecure: true (host " +
           Quoted(host) + ")";
  return std::nullopt;
}

std::vector<Config::NotifyTarget> ReadNotify(const YAML::Node& node, const std::string& file,
                                             const AddError& add) {
  std::vector<Config::NotifyTarget> out;
  if (node.IsNull()) return out;
  if (!node.IsSequence()) {
    add(yaml::Where(file, node), "notify",
        "expected a sequence of targets, got " + std::string(yaml::Describe(node)));
    return out;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    auto t = ReadTarget(node[i], i, file, add);
    if (!t) continue;
    const bool taken = std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.name == t->name; });
    if (taken) {
      add(yaml::Where(file, node[i]), "notify[" + std::to_string(i) + "].name",
          Quoted(t->name) + " names another target too; give each its own name");
      continue;
    }
    out.push_back(std::move(*t));
  }
  return out;
}

std::vector<std::string> NotifySecrets(const Config& config) {
  std::vector<std::string> out;
  auto url = [&](std::string_view u) {
    for (auto& s : log::UrlSecrets(u)) out.push_back(std::move(s));
    // Short paths ("/notify", "/message") are no secret, and masking them would garble logs.
    if (auto p = PathOf(u); p.size() >= 16) out.emplace_back(p);
  };
  for (const auto& t : config.notify) {
    if (!t.secret.empty()) out.push_back(t.secret);
    url(t.url);
  }
  if (!config.forge.token.empty()) out.push_back(config.forge.token);
  for (auto& s : log::UrlSecrets(config.forge.api_url)) out.push_back(std::move(s));
  return out;
}

}  // namespace podcd::config
