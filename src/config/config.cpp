#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "config/key_table_internal.hpp"
#include "config/notify_config_internal.hpp"
#include "config/remote_url.hpp"
#include "util/strings.hpp"
#include "util/yaml.hpp"

namespace podcd::config {
namespace {

namespace fs = std::filesystem;

using detail::Find;
using detail::IsSection;
using detail::KeySpec;
using detail::Kind;
using detail::Table;

std::string Quoted(std::string_view v) { return "\"" + std::string(v) + "\""; }

// A mapping key as the key path spells it. A key that is no scalar (a "? " complex key, a null)
// cannot name a setting: it becomes an unknown key, not a yaml-cpp exception.
std::string KeyName(const YAML::Node& key) { return key.IsScalar() ? key.Scalar() : std::string("?"); }

std::vector<std::string> SplitList(std::string_view v, char sep) {
  std::vector<std::string> out;
  while (!v.empty()) {
    auto pos = v.find(sep);
    auto item = Trim(v.substr(0, pos));
    if (!item.empty()) out.emplace_back(item);
    if (pos == std::string_view::npos) break;
    v.remove_prefix(pos + 1);
  }
  return out;
}

struct Loader {
  Config cfg;
  std::vector<Error> errors;
  // `*_file` keys from the YAML file, read only if the environment does not override them.
  struct PendingSecretFile {
    const KeySpec* spec;
    std::string path;
    std::string where;
  };
  std::vector<PendingSecretFile> pending_files;

  void Add(std::string where, std::string_view key, const std::string& msg) {
    errors.push_back(Error{ErrorCode::kInvalidArgument, std::string(key) + ": " + msg, std::move(where)});
  }

  void ApplyScalar(const KeySpec& s, std::string_view v, const std::string& where) {
    if (s.kind == Kind::kList) {
      if (auto err = s.set_list(cfg, SplitList(v, ','))) Add(where, s.key, *err);
      return;
    }
    if (s.kind == Kind::kStackRules) {
      // stack:rule,rule;stack2:rule
      std::map<std::string, std::vector<std::string>> m;
      for (const auto& entry : SplitList(v, ';')) {
        auto colon = entry.find(':');
        if (colon == std::string::npos) {
          Add(where, s.key, "expected stack:rule[,rule], got " + Quoted(entry));
          return;
        }
        auto& rules = m[std::string(Trim(std::string_view(entry).substr(0, colon)))];
        for (auto& r : SplitList(std::string_view(entry).substr(colon + 1), ',')) rules.push_back(r);
      }
      if (auto err = s.set_rules(cfg, m)) Add(where, s.key, *err);
      return;
    }
    if (auto err = s.set(cfg, v)) Add(where, s.key, *err);
  }

  void ApplyDefaults() {
    for (const auto& s : Table()) {
      if (!s.default_value.empty() || s.kind == Kind::kString) ApplyScalar(s, s.default_value, "default");
    }
  }

  // Reads a *_file value: the file's contents with one trailing newline removed.
  std::optional<std::string> ReadSecretFile(const std::string& path, const std::string& where,
                                            std::string_view key) {
    auto text = ReadFile(path, std::uintmax_t{64} * 1024);
    if (!text) {
      Add(where, key, "cannot read secret file " + Quoted(path) + ": " + text.error().message);
      return std::nullopt;
    }
    std::string v = std::move(*text);
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }

  // Errors point at the key (file:line:col of `key`), as users look for the key.
  void ApplyNode(const YAML::Node& key, const YAML::Node& node, const std::string& path,
                 const std::string& file) {
    const std::string where = yaml::Where(file, key);
    if (path == "notify") {
      cfg.notify =
          ReadNotify(node, file, [this](std::string at, const std::string& k, const std::string& message) {
            Add(std::move(at), k, message);
          });
      return;
    }
    const KeySpec* spec = Find(path);
    bool from_file = false;
    if (!spec && path.ends_with("_file")) {
      spec = Find(std::string_view(path).substr(0, path.size() - 5));
      if (spec && spec->kind != Kind::kSecret) spec = nullptr;
      from_file = spec != nullptr;
    }
    if (!spec) {
      if (IsSection(path)) {
        if (!node.IsMap()) {
          Add(where, path, "expected a mapping, got " + std::string(yaml::Describe(node)));
          return;
        }
        for (auto it = node.begin(); it != node.end(); ++it) {
          ApplyNode(it->first, it->second, path + "." + KeyName(it->first), file);
        }
        return;
      }
      Add(where, path, "unknown key");
      return;
    }
    if (spec->kind == Kind::kList) {
      if (!node.IsSequence()) {
        Add(where, path, "expected a sequence, got " + std::string(yaml::Describe(node)));
        return;
      }
      std::vector<std::string> items;
      for (const auto& item : node) {
        if (!item.IsScalar()) {
          Add(yaml::Where(file, item), path, "expected a string, got " + std::string(yaml::Describe(item)));
          return;
        }
        items.push_back(item.Scalar());
      }
      if (auto err = spec->set_list(cfg, items)) Add(where, path, *err);
      return;
    }
    if (spec->kind == Kind::kStackRules) {
      if (!node.IsMap()) {
        Add(where, path, "expected a mapping of stack: [rules], got " + std::string(yaml::Describe(node)));
        return;
      }
      std::map<std::string, std::vector<std::string>> m;
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!it->second.IsSequence()) {
          Add(yaml::Where(file, it->second), path + "." + it->first.Scalar(),
              "expected a sequence of rule names, got " + std::string(yaml::Describe(it->second)));
          return;
        }
        auto& rules = m[it->first.Scalar()];
        // A named copy: the iterator's pair is a temporary, and a range-for over its member
        // would outlive it (ASan: stack-use-after-scope).
        const YAML::Node list = it->second;
        for (const auto& r : list) rules.push_back(r.IsScalar() ? r.Scalar() : std::string("?"));
      }
      if (auto err = spec->set_rules(cfg, m)) Add(where, path, *err);
      return;
    }
    if (!node.IsScalar()) {
      Add(where, path, "expected a single value, got " + std::string(yaml::Describe(node)));
      return;
    }
    if (from_file) {
      pending_files.push_back({spec, node.Scalar(), where});
      return;
    }
    ApplyScalar(*spec, node.Scalar(), where);
  }

  // `given`: the file's text as read before (a worker process rebuilding the daemon's config).
  void ApplyFile(const std::string& file, const std::string& display,
                 const std::optional<std::string>& given) {
    auto text = given ? Expected<std::string>(*given) : ReadFile(file, 1 << 20);
    if (!text) {
      errors.push_back(text.error());
      return;
    }
    cfg.file_text = *text;
    auto root = yaml::Parse(*text, display);
    if (!root) {
      errors.push_back(root.error());
      return;
    }
    if (root->IsNull()) return;  // an empty file is fine
    if (!root->IsMap()) {
      Add(yaml::Where(display, *root), "(top level)",
          "expected a mapping at the top level, got " + std::string(yaml::Describe(*root)));
      return;
    }
    for (auto it = root->begin(); it != root->end(); ++it) {
      ApplyNode(it->first, it->second, KeyName(it->first), display);
    }
  }

  void ReadPendingSecretFiles() {
    for (const auto& p : pending_files) {
      if (auto v = ReadSecretFile(p.path, p.where, std::string(p.spec->key) + "_file")) {
        ApplyScalar(*p.spec, *v, p.where);
      }
    }
    pending_files.clear();
  }

  void ApplyEnv(const EnvLookup& env) {
    for (const auto& s : Table()) {
      // The first variable set wins (PODCD_* names come first in the table).
      for (auto name : s.env) {
        std::string n(name);
        auto direct = env(n);
        std::optional<std::string> via_file;
        if (s.kind == Kind::kSecret) via_file = env(n + "_FILE");
        if (direct || via_file) {
          std::erase_if(pending_files, [&](const PendingSecretFile& p) { return p.spec == &s; });
        }
        if (direct && via_file) {
          Add("environment", s.key,
              "both " + n + " and " + n +
                  "_FILE are set; give one");  // NOLINT(performance-inefficient-string-concatenation):
                                               // an error path
          break;
        }
        if (via_file) {
          if (auto v = ReadSecretFile(*via_file, "environment " + n + "_FILE", s.key)) {
            ApplyScalar(s, *v, "environment " + n + "_FILE");
          }
          break;
        }
        if (direct) {
          ApplyScalar(s, *direct, "environment " + n);
          break;
        }
      }
    }
  }

  void ValidateForge() {
    auto bad = [&](std::string_view key, const std::string& msg) { Add("config", key, msg); };
    const auto& f = cfg.forge;
    if (f.type.empty()) return;
    if (std::find(std::begin(kForgeTypes), std::end(kForgeTypes), f.type) == std::end(kForgeTypes)) {
      bad("forge.type", Quoted(f.type) + " is not a forge; one of github, gitea, gitlab");
      return;
    }
    // GitHub and GitLab have a default (formats.hpp); a Gitea or Forgejo is always one's own.
    if (f.api_url.empty()) {
      if (f.type == "gitea") bad("forge.api_url", "is required for gitea (https://gitea.example/api/v1)");
    } else if (auto err = CheckNotifyUrl(f.api_url, false)) {
      bad("forge.api_url", *err);
    }
    const auto slash = f.repository.find('/');
    if (f.repository.empty()) {
      bad("forge.repository", "is required with forge.type (owner/name; GitLab: the project's path or id)");
    } else if (f.type != "gitlab" &&
               (slash == std::string::npos || slash == 0 || slash + 1 == f.repository.size() ||
                f.repository.find('/', slash + 1) != std::string::npos)) {
      bad("forge.repository", "expected owner/name, got " + Quoted(f.repository));
    }
    if (f.token.empty())
      bad("forge.token", "is required with forge.type (forge.token_file or PODCD_FORGE_TOKEN_FILE)");
    if (!f.host.empty() && !IsValidStackName(f.host))
      bad("forge.host", "expected a short name (a-z, 0-9, '.', '_', '-'), got " + Quoted(f.host));
  }

  void Validate(bool require_webhook_secret) {
    auto bad = [&](std::string_view key, const std::string& msg) { Add("config", key, msg); };
    if (cfg.webhook.secret.empty() && !require_webhook_secret) {
      // Nothing to check: no webhook is served.
    } else if (cfg.webhook.secret.empty()) {
      bad("webhook.secret", "is required (set WEBHOOK_SECRET, WEBHOOK_SECRET_FILE or webhook.secret_file)");
    } else if (cfg.webhook.secret.size() < 16) {
      bad("webhook.secret", "must be at least 16 bytes, got " + std::to_string(cfg.webhook.secret.size()));
    }
    if (!cfg.api.token.empty() && cfg.api.token.size() < 16) {
      bad("api.token", "must be at least 16 bytes, got " + std::to_string(cfg.api.token.size()));
    }
    if (auto base = NormalBasePath(cfg.http.base_path)) {
      cfg.http.base_path = *base;
    } else {
      bad("http.base_path", "must be a path such as /podcd (letters, digits, '-', '_', '.', '/'), got " +
                                Quoted(cfg.http.base_path.substr(0, 80)));
    }
    if (cfg.repo.path.empty() && cfg.repo.url.empty()) {
      bad("repo.path", "set repo.path (PODCD_REPO_PATH) or repo.url (PODCD_REPO_URL)");
    }
    if (auto t = CheckRemoteTransport(cfg.repo.url, cfg.repo.allow_insecure); !t)
      bad("repo.url", t.error().message);
    if (cfg.repo.path.empty() && !cfg.repo.url.empty()) {
      cfg.repo.path = (fs::path(cfg.state_dir) / "repo").string();
    }
    if (cfg.repo.branch.empty() || cfg.repo.branch.find("..") != std::string::npos ||
        cfg.repo.branch.find(' ') != std::string::npos) {
      bad("repo.branch", "is not a valid branch name: " + Quoted(cfg.repo.branch));
    }
    fs::path sd(cfg.repo.services_dir);
    if (cfg.repo.services_dir.empty() || sd.is_absolute() ||
        std::any_of(sd.begin(), sd.end(), [](const fs::path& p) { return p == ".."; })) {
      bad("repo.services_dir",
          "must be a relative path inside the repo, got " + Quoted(cfg.repo.services_dir));
    }
    if (!cfg.self.stack.empty() && !IsValidStackName(cfg.self.stack)) {
      bad("self.stack", "is not a valid stack name: " + Quoted(cfg.self.stack));
    }
    if (cfg.state_dir.empty() || cfg.state_dir.front() != '/') {
      bad("state_dir", "must be an absolute path, got " + Quoted(cfg.state_dir));
    }
    // Each is a bound on a wait; libcurl and the sync child read 0 as no bound at all.
    for (auto [key, limit] : {std::pair<std::string_view, Millis>{"podman.timeout", cfg.podman.timeout},
                              {"repo.sync_timeout", cfg.repo.sync_timeout},
                              {"webhook.request_timeout", cfg.webhook.request_timeout},
                              {"health.timeout", cfg.health.timeout},
                              {"worker.timeout", cfg.worker.timeout}}) {
      if (limit.count() <= 0) bad(key, "must be more than 0: it is a limit");
    }
    if (cfg.repo.remote_check_interval.count() > 0 &&
        cfg.repo.remote_check_interval < std::chrono::seconds(10)) {
      bad("repo.remote_check_interval", "must be 0s (off) or at least 10s");
    }
    if (cfg.poll.interval.count() > 0 && cfg.poll.interval < std::chrono::seconds(10)) {
      bad("poll.interval", "must be 0 (off) or at least 10s");
    }
    // Below this a worker cannot even start (its threads' stacks alone take 8 MiB each).
    if (cfg.worker.memory_max != 0 && cfg.worker.memory_max < (std::int64_t{64} << 20)) {
      bad("worker.memory_max", "must be 0 (none) or at least 64MiB");
    }
    ValidateForge();
    if (!cfg.http.public_url.empty()) {
      while (cfg.http.public_url.ends_with('/')) cfg.http.public_url.pop_back();
      if (auto err = CheckNotifyUrl(cfg.http.public_url, true)) bad("http.public_url", *err);
    }
    // Found now rather than at the first sync, minutes later, in a deployment log.
    for (auto [key, path] :
         {std::pair<std::string_view, const std::string*>{"repo.ssh_key_file", &cfg.repo.ssh_key_file},
          {"repo.known_hosts_file", &cfg.repo.known_hosts_file}}) {
      if (path->empty()) continue;
      std::ifstream in(*path);
      if (!in) bad(key, "cannot read " + Quoted(*path) + ": " + std::strerror(errno));
    }
  }
};

}  // namespace

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::expected<Config, std::vector<Error>> Load(const LoadOptions& options) {
  Loader l;
  l.ApplyDefaults();

  std::string file = options.file;
  bool explicit_file = !file.empty();
  if (file.empty()) {
    if (auto v = options.env("PODCD_CONFIG"); v && !v->empty()) {
      file = *v;
      explicit_file = true;
    }
  }
  if (file.empty()) file = options.default_file;
  std::error_code ec;
  if (explicit_file || fs::exists(file, ec)) {
    l.ApplyFile(file, file, options.text);
    l.cfg.source = file;
  } else {
    l.cfg.source = "environment";
  }
  l.ApplyEnv(options.env);
  l.ReadPendingSecretFiles();
  l.Validate(options.require_webhook_secret);
  if (!l.errors.empty()) return std::unexpected(std::move(l.errors));
  log::AddSecret(l.cfg.webhook.secret);
  log::AddSecret(l.cfg.api.token);
  log::AddSecret(l.cfg.repo.token);
  for (auto& s : log::UrlSecrets(l.cfg.repo.url)) log::AddSecret(std::move(s));
  for (auto& s : NotifySecrets(l.cfg)) log::AddSecret(std::move(s));
  return std::move(l.cfg);
}

std::vector<std::string> KeepRestartOnly(Config& fresh, const Config& running) {
  std::vector<std::string> kept;
  auto keep = [&](auto& now, const auto& before, const char* name) {
    if (now != before && (kept.empty() || kept.back() != name)) kept.emplace_back(name);
    now = before;
  };
  keep(fresh.listen.host, running.listen.host, "listen");
  keep(fresh.listen.port, running.listen.port, "listen");
  keep(fresh.state_dir, running.state_dir, "state_dir");
  keep(fresh.repo.path, running.repo.path, "repo.path");
  keep(fresh.repo.services_dir, running.repo.services_dir, "repo.services_dir");
  keep(fresh.podman.socket, running.podman.socket, "podman.socket");
  keep(fresh.podman.auth_file, running.podman.auth_file, "podman.auth_file");
  keep(fresh.podman.timeout, running.podman.timeout, "podman.timeout");
  keep(fresh.webhook.max_body_bytes, running.webhook.max_body_bytes, "webhook.max_body_bytes");
  keep(fresh.webhook.max_header_bytes, running.webhook.max_header_bytes, "webhook.max_header_bytes");
  keep(fresh.webhook.auth_failures_per_minute, running.webhook.auth_failures_per_minute,
       "webhook.auth_failures_per_minute");
  keep(fresh.webhook.request_timeout, running.webhook.request_timeout, "webhook.request_timeout");
  keep(fresh.webhook.delivery_ids, running.webhook.delivery_ids, "webhook.delivery_ids");
  keep(fresh.webhook.max_connections, running.webhook.max_connections, "webhook.max_connections");
  keep(fresh.webhook.max_connections_per_address, running.webhook.max_connections_per_address,
       "webhook.max_connections_per_address");
  keep(fresh.queue_limit, running.queue_limit, "queue_limit");
  keep(fresh.trusted_proxies, running.trusted_proxies, "trusted_proxies");
  return kept;
}

std::optional<std::string> NormalBasePath(std::string_view path) {
  std::string out;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty()) continue;
    if (part == "." || part == ".." || part.size() > 64) return std::nullopt;
    for (char ch : part) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
        return std::nullopt;
    }
    out += "/" + std::string(part);
  }
  if (out.size() > 200) return std::nullopt;
  return out;
}

std::string Summary(const Config& c) {
  std::string s =
      "config OK (" + c.source + "): listen " + c.listen.host + ":" + std::to_string(c.listen.port);
  s += ", repo " + c.repo.path;
  if (!c.repo.url.empty()) s += " from " + log::RedactUserinfo(c.repo.url);
  s += " (branch " + c.repo.branch + ", services " + c.repo.services_dir + ")";
  s += ", podman " + c.podman.socket + ", state " + c.state_dir;
  if (!c.self.stack.empty()) s += ", self " + c.self.stack;
  s += ", poll " + FormatDuration(c.poll.interval);
  s += c.prune ? ", prune on" : ", prune off";
  if (!c.auth.users_file.empty()) {
    s += ", users " + c.auth.users_file + (c.api.token.empty() ? "" : " and api token");
  } else {
    s += c.api.token.empty() ? ", api loopback-only" : ", api token set";
  }
  if (!c.http.base_path.empty()) s += ", under " + c.http.base_path;
  if (!c.notify.empty()) s += ", notify " + std::to_string(c.notify.size()) + " target(s)";
  if (!c.forge.type.empty()) s += ", statuses to " + c.forge.type + " " + c.forge.repository;
  return s;
}

std::vector<KeyDoc> DescribeKeys() {
  std::vector<KeyDoc> out;
  for (const auto& s : Table()) {
    KeyDoc d{
        std::string(s.key), std::string(s.default_value), {}, std::string(s.help), s.kind == Kind::kSecret};
    for (auto e : s.env) {
      d.env.emplace_back(e);
      if (s.kind == Kind::kSecret) d.env.push_back(std::string(e) + "_FILE");
    }
    out.push_back(std::move(d));
  }
  // A list of mappings, read apart from the table (notify_config.hpp); no environment variable.
  out.push_back(
      {"notify", "", {}, "who hears of deployments: a list of targets (docs/notifications.md)", false});
  return out;
}

}  // namespace podcd::config
