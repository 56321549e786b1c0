#include "compose/loader.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <system_error>

#include "compose/yaml_tree.hpp"
#include "util/context_ignore.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace podcd::compose {
namespace fs = std::filesystem;
using tree::Node;
using tree::NodePtr;

namespace {

bool IsExtension(std::string_view key) { return key.starts_with("x-"); }

bool Within(const fs::path& root, const fs::path& p) {
  auto r = root.begin();
  auto q = p.begin();
  for (; r != root.end(); ++r, ++q) {
    if (r->empty()) continue;
    if (q == p.end() || *r != *q) return false;
  }
  return true;
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Parses a Go duration ("1m30s", "1.5s", "250ms", "10us", "5ns"); a bare integer is seconds.
std::optional<core::Nanos> ParseGoDuration(std::string_view s) {
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  if (std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (s.size() > 9) return std::nullopt;
    return core::Nanos(std::stoll(std::string(s)) * 1'000'000'000LL);
  }
  long double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
    if (j == i || j - i > 18) return std::nullopt;
    std::string num(s.substr(i, j - i));
    if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
    long double v = std::strtold(num.c_str(), nullptr);
    std::size_t k = j;
    while (k < s.size() && ((s[k] >= 'a' && s[k] <= 'z') || s[k] == 'A' || s[k] == 'u')) ++k;
    std::string_view unit = s.substr(j, k - j);
    long double mult = 0;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return std::nullopt;
    total += v * mult;
    if (total > 9e18L) return std::nullopt;
    i = k;
  }
  return core::Nanos(static_cast<std::int64_t>(std::llround(total)));
}

// "512m", "1g", "1.5gb", "1024" (bytes), binary multiples; -1 allowed when `allow_minus_one`.
std::optional<std::int64_t> ParseSize(std::string_view s, bool allow_minus_one) {
  s = Trim(s);
  if (allow_minus_one && s == "-1") return -1;
  std::size_t j = 0;
  while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == '.')) ++j;
  if (j == 0 || j > 18) return std::nullopt;
  std::string num(s.substr(0, j));
  if (std::count(num.begin(), num.end(), '.') > 1 || num == ".") return std::nullopt;
  long double v = std::strtold(num.c_str(), nullptr);
  std::string unit;
  for (char c : s.substr(j)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  long double mult = 0;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    mult = 1024.0L;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    mult = 1024.0L * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    mult = 1024.0L * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib")
    mult = 1024.0L * 1024 * 1024 * 1024;
  else
    return std::nullopt;
  long double total = v * mult;
  if (total > 9e18L) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(total));
}

std::optional<std::uint16_t> ParsePort(std::string_view s) {
  auto v = ParseInt(s);
  if (!v || *v < 1 || *v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*v);
}

std::optional<core::PortRange> ParsePortRange(std::string_view s) {
  auto dash = s.find('-');
  if (dash == std::string_view::npos) {
    auto p = ParsePort(s);
    if (!p) return std::nullopt;
    return core::PortRange{*p, *p};
  }
  auto a = ParsePort(s.substr(0, dash));
  auto b = ParsePort(s.substr(dash + 1));
  if (!a || !b || *a > *b) return std::nullopt;
  return core::PortRange{*a, *b};
}

std::string HashFile(const fs::path& p, std::uintmax_t& budget, std::string& error) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    error = "cannot read " + p.string();
    return {};
  }
  Sha256 h;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    auto n = static_cast<std::uintmax_t>(in.gcount());
    if (n > budget) {
      error = "referenced files are larger than the hashing limit";
      return {};
    }
    budget -= n;
    h.Update(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return h.HexDigest();
}

class Loader {
 public:
  Loader(const StackDir& stack, const LoadOptions& o) : stack_(stack), opt_(o) {
    std::error_code ec;
    repo_ = fs::weakly_canonical(fs::absolute(o.repo_root), ec);
    if (!o.secrets_dir.empty()) {
      fs::path sd = o.secrets_dir.is_relative() ? o.repo_root / o.secrets_dir : o.secrets_dir;
      secrets_ = fs::weakly_canonical(fs::absolute(sd), ec);
    }
    dir_ = fs::absolute(stack.dir).lexically_normal();
    file_ = RepoRel(fs::absolute(stack.compose_file).lexically_normal());
    budget_ = o.max_hash_bytes;
  }

  std::expected<core::Stack, LoadErrors> Run(std::string_view text) {
    out_.dir = stack_.name;
    out_.name = stack_.name;
    out_.compose_file = file_;
    LoadVariables();
    if (!errors_.empty()) return std::unexpected(std::move(errors_));
    auto root = tree::Parse(text, file_);
    if (!root) return std::unexpected(std::move(root.error()));
    Top(**root);
    Resolve();
    if (!errors_.empty()) return std::unexpected(std::move(errors_));
    std::sort(out_.warnings.begin(), out_.warnings.end());
    out_.warnings.erase(std::unique(out_.warnings.begin(), out_.warnings.end()), out_.warnings.end());
    return std::move(out_);
  }

 private:
  // ---------- errors and positions
  void Err(const Node& n, const std::string& path, const std::string& msg) {
    if (errors_.size() >= 200) return;
    errors_.push_back(Error{ErrorCode::kInvalidArgument, path + ": " + msg, tree::Where(file_, n.mark)});
  }
  void ErrAt(const tree::Mark& m, const std::string& path, const std::string& msg) {
    if (errors_.size() >= 200) return;
    errors_.push_back(Error{ErrorCode::kInvalidArgument, path + ": " + msg, tree::Where(file_, m)});
  }
  void TypeErr(const Node& n, const std::string& path, std::string_view want) {
    Err(n, path, "must be " + std::string(want) + ", got " + std::string(n.Describe()));
  }
  void Unsupported(const tree::Entry& e, const std::string& path) {
    ErrAt(e.key_mark, path.empty() ? e.key : path + "." + e.key,
          "unsupported key " + Quoted(e.key) + " (podcd refuses what it would otherwise silently ignore)");
  }

  std::string RepoRel(const fs::path& p) const {
    if (Within(repo_, p)) return p.lexically_relative(repo_).generic_string();
    return p.string();
  }

  // ---------- scalars
  std::optional<std::string> Str(const Node& n, const std::string& path) {
    if (!n.IsScalar()) {
      TypeErr(n, path, "a string");
      return std::nullopt;
    }
    auto r = Interpolate(n.scalar, vars_);
    if (!r) {
      Err(n, path, r.error().message + " (" + r.error().context + " of the value)");
      return std::nullopt;
    }
    for (const auto& u : r->unset) {
      out_.warnings.push_back("variable " + u + " is not set; substituted an empty string (" + path + ")");
    }
    return std::move(r->value);
  }
  std::optional<bool> Bool(const Node& n, const std::string& path) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    if (*s == "true" || *s == "True" || *s == "TRUE" || *s == "yes") return true;
    if (*s == "false" || *s == "False" || *s == "FALSE" || *s == "no") return false;
    Err(n, path, "must be true or false, got " + Quoted(*s));
    return std::nullopt;
  }
  std::optional<std::int64_t> Int(const Node& n, const std::string& path) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    auto v = ParseInt(Trim(*s));
    if (!v) Err(n, path, "must be an integer, got " + Quoted(*s));
    return v;
  }
  std::optional<core::Nanos> Duration(const Node& n, const std::string& path) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    auto v = ParseGoDuration(*s);
    if (!v) Err(n, path, "must be a duration such as 30s, 1m30s or 500ms, got " + Quoted(*s));
    return v;
  }
  std::optional<std::int64_t> Size(const Node& n, const std::string& path, bool allow_minus_one = false) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    auto v = ParseSize(*s, allow_minus_one);
    if (!v) Err(n, path, "must be a size such as 512m, 1g or a number of bytes, got " + Quoted(*s));
    return v;
  }
  std::optional<std::int64_t> NanoCpus(const Node& n, const std::string& path) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    std::string t(Trim(*s));
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !std::isfinite(v) || v < 0 || v > 1e6) {
      Err(n, path, "must be a number of CPUs such as 0.5 or 2, got " + Quoted(*s));
      return std::nullopt;
    }
    return static_cast<std::int64_t>(std::llround(v * 1e9));
  }
  std::optional<std::uint32_t> Mode(const Node& n, const std::string& path) {
    auto s = Str(n, path);
    if (!s) return std::nullopt;
    std::string t(Trim(*s));
    // Compose modes are octal whether written 0440, 440 or 0o440.
    const int base = 8;
    if (t.starts_with("0o")) t = t.substr(2);
    char* end = nullptr;
    unsigned long v = std::strtoul(t.c_str(), &end, base);
    if (t.empty() || end != t.c_str() + t.size() || v > 07777) {
      Err(n, path, "must be a file mode such as 0440, got " + Quoted(*s));
      return std::nullopt;
    }
    return static_cast<std::uint32_t>(v);
  }
  void SetStr(const Node& n, const std::string& path, std::string& dst) {
    if (auto s = Str(n, path)) dst = std::move(*s);
  }
  void SetBool(const Node& n, const std::string& path, bool& dst) {
    if (auto b = Bool(n, path)) dst = *b;
  }
  // A string or a list of strings.
  std::vector<std::string> StrList(const Node& n, const std::string& path, bool allow_single = true) {
    std::vector<std::string> out;
    if (n.IsScalar() && allow_single) {
      if (auto s = Str(n, path)) out.push_back(*s);
      return out;
    }
    if (!n.IsSequence()) {
      TypeErr(n, path, allow_single ? "a string or a list of strings" : "a list of strings");
      return out;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
      if (auto s = Str(*n.items[i], path + "[" + std::to_string(i) + "]")) out.push_back(*s);
    }
    return out;
  }
  // A mapping of strings, or a list of "KEY=VALUE"; `null_values` receives keys without value.
  std::map<std::string, std::string> StrMap(const Node& n, const std::string& path,
                                            std::vector<std::string>* null_values = nullptr) {
    std::map<std::string, std::string> out;
    if (n.IsMap()) {
      for (const auto& e : n.entries) {
        std::string p = path + "." + e.key;
        if (e.value->IsNull()) {
          if (null_values) {
            null_values->push_back(e.key);
          } else {
            out[e.key] = "";
          }
          continue;
        }
        if (auto s = Str(*e.value, p)) out[e.key] = *s;
      }
    } else if (n.IsSequence()) {
      for (std::size_t i = 0; i < n.items.size(); ++i) {
        std::string p = path + "[" + std::to_string(i) + "]";
        auto s = Str(*n.items[i], p);
        if (!s) continue;
        auto eq = s->find('=');
        if (eq == std::string::npos) {
          if (null_values) {
            null_values->push_back(*s);
          } else {
            Err(*n.items[i], p, "must be KEY=VALUE, got " + Quoted(*s));
          }
          continue;
        }
        if (eq == 0) {
          Err(*n.items[i], p, "must be KEY=VALUE, got " + Quoted(*s));
          continue;
        }
        out[s->substr(0, eq)] = s->substr(eq + 1);
      }
    } else if (!n.IsNull()) {
      TypeErr(n, path, "a mapping or a list of KEY=VALUE strings");
    }
    return out;
  }
  std::vector<std::string> SortedUnique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  // ---------- paths
  struct Resolved {
    fs::path abs;     // canonical
    std::string key;  // "services/web/x" or "<secrets>/x"
    bool exists = false;
  };
  enum class Scope { kRepoOrSecrets, kAnywhere };

  // Resolves a path relative to the stack directory. Inside the repository (lexically) it
  // must also stay inside after following symlinks. Returns nullopt after an error.
  // `outside` is set when the path lies outside both roots (only allowed for kAnywhere).
  std::optional<Resolved> ResolvePath(const Node& n, const std::string& path, const std::string& raw,
                                      Scope scope, bool* outside = nullptr) {
    if (raw.empty()) {
      Err(n, path, "the path is empty");
      return std::nullopt;
    }
    if (raw.front() == '~') {
      Err(n, path, "paths starting with ~ are not supported: " + Quoted(raw));
      return std::nullopt;
    }
    if (raw.find('\0') != std::string::npos) {
      Err(n, path, "the path contains a NUL byte");
      return std::nullopt;
    }
    fs::path p = fs::path(raw).is_absolute() ? fs::path(raw) : dir_ / raw;
    p = p.lexically_normal();
    bool lex_repo = Within(repo_, p);
    bool lex_secrets = !secrets_.empty() && Within(secrets_, p);
    if (!lex_repo && !lex_secrets) {
      if (scope == Scope::kAnywhere && fs::path(raw).is_absolute()) {
        if (outside) *outside = true;
        return Resolved{p, p.string(), false};
      }
      Err(n, path,
          Quoted(raw) + " points outside the repository" +
              std::string(secrets_.empty() ? "" : " and the secrets directory") + " (" + p.string() + ")");
      return std::nullopt;
    }
    std::error_code ec;
    fs::path c = fs::weakly_canonical(p, ec);
    if (ec) {
      Err(n, path,
          "cannot resolve " + Quoted(raw) + ": " + ec.message() +
              (ec == std::errc::too_many_symbolic_link_levels ? " (symlink loop)" : ""));
      return std::nullopt;
    }
    Resolved r;
    r.abs = c;
    if (Within(repo_, c)) {
      r.key = c.lexically_relative(repo_).generic_string();
      if (r.key == ".") r.key = "";
    } else if (!secrets_.empty() && Within(secrets_, c)) {
      r.key = "<secrets>/" + c.lexically_relative(secrets_).generic_string();
    } else {
      Err(n, path,
          Quoted(raw) + " resolves through a symlink to " + c.string() + ", outside the repository" +
              std::string(secrets_.empty() ? "" : " and the secrets directory"));
      return std::nullopt;
    }
    auto st = fs::symlink_status(c, ec);
    r.exists = !ec && fs::exists(st);
    return r;
  }

  // Reads a small text file already resolved (regular files only).
  std::optional<std::string> ReadSmall(const Node& n, const std::string& path, const Resolved& r) {
    std::error_code ec;
    if (!fs::is_regular_file(r.abs, ec)) {
      Err(n, path, r.key + " is not a regular file");
      return std::nullopt;
    }
    auto text = ReadFile(r.abs, opt_.max_file_bytes);
    if (!text) {
      Err(n, path, r.key + ": " + text.error().message);
      return std::nullopt;
    }
    return std::move(*text);
  }

  // Records a referenced file or directory with its digest; returns its key.
  // `build_file`: for a build context, its Containerfile (never left out by the ignore file).
  std::optional<std::string> Reference(const Node& n, const std::string& path, const Resolved& r,
                                       core::FileKind kind, const std::string& build_file = {}) {
    if (auto it = out_.files.find(r.key); it != out_.files.end()) {
      if (kind != core::FileKind::kBindFile && kind != core::FileKind::kBindDir) it->second.kind = kind;
      return r.key;
    }
    core::ReferencedFile f;
    f.path = r.key;
    f.kind = kind;
    std::error_code ec;
    std::string error;
    const bool bind = kind == core::FileKind::kBindFile || kind == core::FileKind::kBindDir;
    if (bind && opt_.is_ignored && opt_.is_ignored(r.key)) {
      // Data the container owns (git ignores it): whether it exists yet, and what it holds,
      // must not change the fingerprint.
      f.kind = core::FileKind::kBindDir;
      f.sha256 = Sha256Hex("ignored");
      out_.files[r.key] = f;
      return r.key;
    }
    if (!r.exists) {
      f.kind = core::FileKind::kMissing;
      f.sha256 = Sha256Hex("missing");
    } else if (fs::is_directory(r.abs, ec)) {
      if (kind == core::FileKind::kConfig || kind == core::FileKind::kSecret ||
          kind == core::FileKind::kEnvFile) {
        Err(n, path, r.key + " is a directory, not a file");
        return std::nullopt;
      }
      if (kind == core::FileKind::kBuildContext) {
        // What `podman build` leaves out (.containerignore, .dockerignore) changes nothing.
        f.kind = kind;
        auto ignore = ContextIgnore::Load(r.abs);
        if (!ignore) {
          Err(n, path, ignore.error().What());
          return std::nullopt;
        }
        std::vector<std::string> keep = {build_file};
        if (!ignore->File().empty()) keep.push_back(ignore->File());
        f.sha256 = HashDir(r.abs, error, &*ignore, keep);
      } else {
        f.kind = core::FileKind::kBindDir;
        f.sha256 = HashDir(r.abs, error);
      }
    } else if (fs::is_regular_file(r.abs, ec)) {
      if (kind == core::FileKind::kBindDir) f.kind = core::FileKind::kBindFile;
      f.sha256 = HashFile(r.abs, budget_, error);
    } else {
      Err(n, path, r.key + " is neither a regular file nor a directory");
      return std::nullopt;
    }
    if (!error.empty()) {
      Err(n, path, r.key + ": " + error);
      return std::nullopt;
    }
    out_.files[r.key] = f;
    return r.key;
  }

  std::string HashDir(const fs::path& root, std::string& error, const ContextIgnore* ignore = nullptr,
                      const std::vector<std::string>& keep = {}) {
    std::vector<std::pair<std::string, std::string>> entries;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    std::size_t count = 0;
    for (; !ec && it != end; it.increment(ec)) {
      if (++count > 100'000) {
        error = "directory has more than 100000 entries";
        return {};
      }
      const auto& p = it->path();
      // A repository's own metadata changes with every fetch: never part of a bind's digest.
      if (p.filename() == ".git") {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      std::string rel = p.lexically_relative(root).generic_string();
      auto st = it->symlink_status(ec);
      if (ec) break;
      if (ignore != nullptr && ignore->LeavesOut(rel, keep)) {
        if (fs::is_directory(st) && ignore->SkipsWhole(rel, keep)) it.disable_recursion_pending();
        continue;
      }
      if (fs::is_symlink(st)) {
        entries.emplace_back(rel, "l " + fs::read_symlink(p, ec).string());
      } else if (fs::is_directory(st)) {
        entries.emplace_back(rel, "d");
      } else if (fs::is_regular_file(st)) {
        std::string h = HashFile(p, budget_, error);
        if (!error.empty()) return {};
        entries.emplace_back(rel, "f " + h);
      } else {
        entries.emplace_back(rel, "o");
      }
    }
    if (ec) {
      error = "cannot list " + root.string() + ": " + ec.message();
      return {};
    }
    std::sort(entries.begin(), entries.end());
    Sha256 h;
    for (const auto& [name, what] : entries) {
      h.Update(name);
      h.Update(std::string_view("\0", 1));
      h.Update(what);
      h.Update("\n");
    }
    return h.HexDigest();
  }

  // ---------- variables: podman-compose.env, then .env on top, then the host allow-list
  void LoadVariables() {
    std::map<std::string, std::string> vars;
    Node dummy;
    for (const char* name : {"podman-compose.env", ".env"}) {
      fs::path p = dir_ / name;
      std::error_code ec;
      if (!fs::exists(fs::symlink_status(p, ec))) continue;
      std::size_t before = errors_.size();
      // These errors are about the variables file, not a place in the compose file.
      auto own_context = [&] {
        for (std::size_t i = before; i < errors_.size(); ++i) {
          errors_[i].context = RepoRel(p);
          if (errors_[i].message.starts_with(std::string(name) + ": ")) {
            errors_[i].message = errors_[i].message.substr(std::strlen(name) + 2);
          }
          if (errors_[i].message.starts_with(RepoRel(p) + ": ")) {
            errors_[i].message = errors_[i].message.substr(RepoRel(p).size() + 2);
          }
        }
      };
      auto r = ResolvePath(dummy, name, name, Scope::kRepoOrSecrets);
      if (!r) {
        own_context();
        continue;
      }
      auto text = ReadSmall(dummy, name, *r);
      if (!text) {
        own_context();
        continue;
      }
      auto entries = ParseEnvFile(*text, r->key, ChainLookup(MapLookup(vars), opt_.host_env));
      if (!entries) {
        errors_.push_back(entries.error());
        continue;
      }
      for (const auto& [k, v] : *entries) {
        if (std::string(name) == ".env") {
          auto it = vars.find(k);
          if (it != vars.end() && it->second != v && !from_env_.contains(k)) {
            out_.warnings.push_back(k + " is set in both podman-compose.env and .env; .env wins");
          }
          from_env_.insert(k);
        }
        vars[k] = v;
      }
      // Listed for the stack, not per service: their effect is the interpolated values, so a
      // comment in .env recreates nothing.
      Reference(dummy, name, *r, core::FileKind::kEnvFile);
    }
    vars_ = ChainLookup(MapLookup(vars), opt_.host_env);
  }

  // ---------- top level
  void Top(const Node& root) {
    if (root.IsNull()) {
      Err(root, "(root)", "the compose file is empty");
      return;
    }
    if (!root.IsMap()) {
      TypeErr(root, "(root)", "a mapping");
      return;
    }
    const Node* services = nullptr;
    // `name` first: default network and volume names derive from it.
    for (const auto& e : root.entries) {
      if (e.key != "name") continue;
      auto s = Str(*e.value, "name");
      if (s && !IsValidStackName(*s)) {
        Err(*e.value, "name", "must match ^[a-z0-9][a-z0-9_.-]{0,62}$, got " + Quoted(*s));
      } else if (s) {
        out_.name = *s;
      }
    }
    for (const auto& e : root.entries) {
      const Node& v = *e.value;
      if (IsExtension(e.key) || e.key == "version" || e.key == "name") continue;
      if (e.key == "services") {
        services = &v;
      } else if (e.key == "networks") {
        TopNetworks(v);
      } else if (e.key == "volumes") {
        TopVolumes(v);
      } else if (e.key == "configs") {
        TopFileObjects(v, "configs", out_.configs, core::FileKind::kConfig);
      } else if (e.key == "secrets") {
        TopFileObjects(v, "secrets", out_.secrets, core::FileKind::kSecret);
      } else {
        Unsupported(e, "");
      }
    }
    if (!services || !services->IsMap() || services->entries.empty()) {
      if (services && !services->IsMap() && !services->IsNull()) {
        TypeErr(*services, "services", "a mapping");
      } else {
        Err(services ? *services : root, "services", "the stack defines no services");
      }
      return;
    }
    for (const auto& e : services->entries) {
      if (IsExtension(e.key)) continue;
      std::string path = "services." + e.key;
      if (!IsValidServiceName(e.key)) {
        ErrAt(e.key_mark, path, "invalid service name " + Quoted(e.key) + " (letters, digits, _ . -)");
        continue;
      }
      if (!e.value->IsMap()) {
        TypeErr(*e.value, path, "a mapping");
        continue;
      }
      ServiceDef(e.key, *e.value, path);
    }
  }

  static bool IsValidServiceName(std::string_view n) {
    if (n.empty() || n.size() > 63) return false;
    for (char c : n) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                c == '.' || c == '-';
      if (!ok) return false;
    }
    return std::isalnum(static_cast<unsigned char>(n.front())) != 0;
  }

  void TopNetworks(const Node& n) {
    if (n.IsNull()) return;
    if (!n.IsMap()) return TypeErr(n, "networks", "a mapping");
    for (const auto& e : n.entries) {
      if (IsExtension(e.key)) continue;
      std::string path = "networks." + e.key;
      core::NetworkDef d;
      const Node& v = *e.value;
      if (!v.IsNull() && !v.IsMap()) {
        TypeErr(v, path, "a mapping");
        continue;
      }
      for (const auto& f : v.entries) {
        std::string p = path + "." + f.key;
        const Node& fv = *f.value;
        if (IsExtension(f.key)) continue;
        if (f.key == "name")
          SetStr(fv, p, d.name);
        else if (f.key == "driver")
          SetStr(fv, p, d.driver);
        else if (f.key == "driver_opts")
          d.driver_opts = StrMap(fv, p);
        else if (f.key == "labels")
          d.labels = StrMap(fv, p);
        else if (f.key == "internal")
          SetBool(fv, p, d.internal);
        else if (f.key == "enable_ipv6")
          SetBool(fv, p, d.enable_ipv6);
        else if (f.key == "external")
          External(fv, p, d.external, d.name);
        else
          Unsupported(f, path);
      }
      if (d.name.empty()) d.name = d.external ? e.key : out_.name + "_" + e.key;
      out_.networks[e.key] = d;
    }
  }

  // `external: true` or the legacy `external: {name: x}`.
  void External(const Node& v, const std::string& p, bool& external, std::string& name) {
    if (v.IsMap()) {
      external = true;
      for (const auto& g : v.entries) {
        if (g.key == "name")
          SetStr(*g.value, p + ".name", name);
        else
          Unsupported(g, p);
      }
      return;
    }
    SetBool(v, p, external);
  }

  void TopVolumes(const Node& n) {
    if (n.IsNull()) return;
    if (!n.IsMap()) return TypeErr(n, "volumes", "a mapping");
    for (const auto& e : n.entries) {
      if (IsExtension(e.key)) continue;
      std::string path = "volumes." + e.key;
      core::VolumeDef d;
      const Node& v = *e.value;
      if (!v.IsNull() && !v.IsMap()) {
        TypeErr(v, path, "a mapping");
        continue;
      }
      for (const auto& f : v.entries) {
        std::string p = path + "." + f.key;
        const Node& fv = *f.value;
        if (IsExtension(f.key)) continue;
        if (f.key == "name")
          SetStr(fv, p, d.name);
        else if (f.key == "driver")
          SetStr(fv, p, d.driver);
        else if (f.key == "driver_opts")
          d.driver_opts = StrMap(fv, p);
        else if (f.key == "labels")
          d.labels = StrMap(fv, p);
        else if (f.key == "external")
          External(fv, p, d.external, d.name);
        else
          Unsupported(f, path);
      }
      if (d.name.empty()) d.name = d.external ? e.key : out_.name + "_" + e.key;
      out_.volumes[e.key] = d;
    }
  }

  void TopFileObjects(const Node& n, const std::string& what, std::map<std::string, core::FileObjectDef>& dst,
                      core::FileKind kind) {
    if (n.IsNull()) return;
    if (!n.IsMap()) return TypeErr(n, what, "a mapping");
    for (const auto& e : n.entries) {
      if (IsExtension(e.key)) continue;
      std::string path = what + "." + e.key;
      core::FileObjectDef d;
      const Node& v = *e.value;
      if (!v.IsMap()) {
        TypeErr(v, path, "a mapping with `file` or `external`");
        continue;
      }
      const Node* file_node = nullptr;
      std::string file;
      for (const auto& f : v.entries) {
        std::string p = path + "." + f.key;
        const Node& fv = *f.value;
        if (IsExtension(f.key)) continue;
        if (f.key == "file") {
          file_node = &fv;
          SetStr(fv, p, file);
        } else if (f.key == "name") {
          SetStr(fv, p, d.name);
        } else if (f.key == "external") {
          External(fv, p, d.external, d.name);
        } else {
          Unsupported(f, path);
        }
      }
      if (d.external == (file_node != nullptr)) {
        Err(v, path, "needs exactly one of `file` or `external: true`");
        continue;
      }
      if (file_node && !file.empty()) {
        auto r = ResolvePath(*file_node, path + ".file", file, Scope::kRepoOrSecrets);
        if (!r) continue;
        if (!r->exists) {
          Err(*file_node, path + ".file", r->key + " does not exist");
          continue;
        }
        auto key = Reference(*file_node, path + ".file", *r, kind);
        if (!key) continue;
        d.file = *key;
        d.host_path = r->abs.string();
      }
      dst[e.key] = d;
    }
  }

  // ---------- services
  void ServiceDef(const std::string& name, const Node& n, const std::string& path) {
    core::Service s;
    s.name = name;
    std::map<std::string, std::string> env_from_files;
    std::map<std::string, std::string> env;
    std::vector<std::string> env_null;
    bool has_networks = false;
    const Node* network_mode_node = nullptr;
    const Node* build_node = nullptr;
    for (const auto& e : n.entries) {
      const std::string& k = e.key;
      const Node& v = *e.value;
      std::string p = path + "." + k;
      if (IsExtension(k)) continue;
      if (k == "image")
        SetStr(v, p, s.image);
      else if (k == "build") {
        BuildDef(v, p, s);
        build_node = &v;
      } else if (k == "command")
        s.command = Command(v, p);
      else if (k == "entrypoint")
        s.entrypoint = Command(v, p);
      else if (k == "environment")
        env = StrMap(v, p, &env_null);
      else if (k == "env_file")
        EnvFiles(v, p, s, env_from_files);
      else if (k == "ports")
        Ports(v, p, s);
      else if (k == "expose") {
        for (auto& x : StrList(v, p, false)) s.expose.push_back(x);
      } else if (k == "volumes")
        Volumes(v, p, s);
      else if (k == "networks") {
        has_networks = true;
        ServiceNetworks(v, p, s);
      } else if (k == "links")
        s.links = StrList(v, p, false);
      else if (k == "labels")
        s.labels = StrMap(v, p);
      else if (k == "restart") {
        SetStr(v, p, s.restart);
        const auto& r = s.restart;
        bool ok = r == "no" || r == "always" || r == "unless-stopped" || r == "on-failure" ||
                  (r.starts_with("on-failure:") && ParseInt(r.substr(11)).value_or(-1) >= 0);
        if (!ok) Err(v, p, "must be no, always, on-failure[:N] or unless-stopped, got " + Quoted(r));
      } else if (k == "healthcheck")
        HealthcheckDef(v, p, s);
      else if (k == "depends_on")
        DependsOnDef(v, p, s);
      else if (k == "user")
        SetStr(v, p, s.user);
      else if (k == "working_dir")
        SetStr(v, p, s.working_dir);
      else if (k == "hostname")
        SetStr(v, p, s.hostname);
      else if (k == "domainname")
        SetStr(v, p, s.domainname);
      else if (k == "cap_add")
        s.cap_add = Caps(v, p);
      else if (k == "cap_drop")
        s.cap_drop = Caps(v, p);
      else if (k == "privileged")
        SetBool(v, p, s.privileged);
      else if (k == "read_only")
        SetBool(v, p, s.read_only);
      else if (k == "tmpfs")
        s.tmpfs = StrList(v, p);
      else if (k == "init")
        s.init = Bool(v, p);
      else if (k == "stop_grace_period")
        s.stop_grace_period = Duration(v, p);
      else if (k == "stop_signal")
        SetStr(v, p, s.stop_signal);
      else if (k == "extra_hosts")
        ExtraHosts(v, p, s);
      else if (k == "logging")
        LoggingDef(v, p, s);
      else if (k == "profiles")
        s.profiles = StrList(v, p, false);
      else if (k == "container_name")
        SetStr(v, p, s.container_name);
      else if (k == "network_mode") {
        network_mode_node = &v;
        SetStr(v, p, s.network_mode);
      } else if (k == "shm_size")
        s.shm_size = Size(v, p).value_or(0);
      else if (k == "mem_limit")
        s.mem_limit = Size(v, p).value_or(0);
      else if (k == "mem_reservation")
        s.mem_reservation = Size(v, p).value_or(0);
      else if (k == "memswap_limit")
        s.memswap_limit = Size(v, p, true).value_or(0);
      else if (k == "cpus")
        s.nano_cpus = NanoCpus(v, p).value_or(0);
      else if (k == "cpu_shares")
        s.cpu_shares = Int(v, p).value_or(0);
      else if (k == "pids_limit")
        s.pids_limit = Int(v, p).value_or(0);
      else if (k == "deploy")
        DeployDef(v, p, s);
      else if (k == "ulimits")
        Ulimits(v, p, s);
      else if (k == "sysctls")
        s.sysctls = StrMap(v, p);
      else if (k == "dns")
        s.dns = StrList(v, p);
      else if (k == "dns_search")
        s.dns_search = StrList(v, p);
      else if (k == "dns_opt")
        s.dns_opt = StrList(v, p, false);
      else if (k == "stdin_open")
        SetBool(v, p, s.stdin_open);
      else if (k == "tty")
        SetBool(v, p, s.tty);
      else if (k == "security_opt")
        s.security_opt = StrList(v, p, false);
      else if (k == "group_add")
        s.group_add = StrList(v, p, false);
      else if (k == "pull_policy") {
        SetStr(v, p, s.pull_policy);
        static const std::set<std::string> kOk = {"always",         "never", "missing",
                                                  "if_not_present", "build", "newer"};
        if (!kOk.contains(s.pull_policy)) {
          Err(v, p,
              "must be always, never, missing, if_not_present, build or newer, got " + Quoted(s.pull_policy));
        }
        if (s.pull_policy == "if_not_present") s.pull_policy = "missing";
      } else if (k == "platform")
        SetStr(v, p, s.platform);
      else if (k == "devices")
        Devices(v, p, s);
      else if (k == "pid")
        SetStr(v, p, s.pid);
      else if (k == "ipc")
        SetStr(v, p, s.ipc);
      else if (k == "userns_mode")
        SetStr(v, p, s.userns_mode);
      else if (k == "configs")
        s.configs = FileObjectRefs(v, p, out_.configs, "configs");
      else if (k == "secrets")
        s.secrets = FileObjectRefs(v, p, out_.secrets, "secrets");
      else
        Unsupported(e, path);
    }
    if (s.image.empty() && !s.build) Err(n, path, "needs `image` or `build`");
    // podcd builds what has no image, or what says pull_policy: build; otherwise `image` is
    // pulled as compose does and the build section is only a model.
    if (s.build && build_node && (s.image.empty() || s.pull_policy == "build"))
      BuildContext(*build_node, path + ".build", s);
    // Environment: env files in order, then `environment`; bare names take the variable's value.
    s.environment = std::move(env_from_files);
    for (auto& [k, v] : env) s.environment[k] = v;
    for (const auto& k : env_null) {
      if (auto v = vars_(k)) s.environment[k] = *v;
    }
    if (network_mode_node && !s.network_mode.empty()) {
      const auto& m = s.network_mode;
      bool ok = m == "bridge" || m == "none" || m == "host" || m == "private" || m == "slirp4netns" ||
                m == "pasta" || m.starts_with("service:") || m.starts_with("container:") ||
                m.starts_with("ns:") || m.starts_with("slirp4netns:") || m.starts_with("pasta:");
      if (!ok) Err(*network_mode_node, path + ".network_mode", "unsupported network mode " + Quoted(m));
      if (has_networks) Err(*network_mode_node, path + ".network_mode", "cannot be combined with `networks`");
      if (m.starts_with("service:"))
        service_refs_.push_back({name, m.substr(8), network_mode_node->mark, "network_mode"});
    } else if (!has_networks) {
      s.networks["default"] = {};
    }
    s.files = SortedUnique(std::move(s.files));
    marks_[name] = n.mark;
    out_.services.push_back(std::move(s));
  }

  std::optional<std::vector<std::string>> Command(const Node& v, const std::string& p) {
    if (v.IsNull()) return std::vector<std::string>{};
    if (v.IsScalar()) {
      auto s = Str(v, p);
      if (!s) return std::nullopt;
      auto words = SplitCommand(*s);
      if (!words) {
        Err(v, p, words.error().message);
        return std::nullopt;
      }
      return *words;
    }
    if (!v.IsSequence()) {
      TypeErr(v, p, "a string or a list of strings");
      return std::nullopt;
    }
    return StrList(v, p, false);
  }

  void BuildDef(const Node& v, const std::string& p, core::Service& s) {
    core::Build b;
    if (v.IsScalar()) {
      SetStr(v, p, b.context);
    } else if (v.IsMap()) {
      for (const auto& e : v.entries) {
        std::string q = p + "." + e.key;
        if (IsExtension(e.key)) continue;
        if (e.key == "context")
          SetStr(*e.value, q, b.context);
        else if (e.key == "dockerfile")
          SetStr(*e.value, q, b.dockerfile);
        else if (e.key == "args")
          b.args = StrMap(*e.value, q);
        else if (e.key == "target")
          SetStr(*e.value, q, b.target);
        else if (e.key == "labels")
          b.labels = StrMap(*e.value, q);
        else
          Unsupported(e, p);
      }
    } else {
      return TypeErr(v, p, "a string or a mapping");
    }
    s.build = b;
  }

  void BuildContext(const Node& v, const std::string& p, core::Service& s) {
    core::Build& b = *s.build;
    // The context is a directory of the repository; its digest (every file in it) joins the
    // service's fingerprint, so a changed file rebuilds the image and recreates the service.
    auto r = ResolvePath(v, p + (v.IsMap() ? ".context" : ""), b.context.empty() ? "." : b.context,
                         Scope::kRepoOrSecrets);
    if (!r) return;
    std::error_code ec;
    if (r->key.starts_with("<secrets>/") || !fs::is_directory(r->abs, ec)) {
      return Err(v, p, "the build context " + Quoted(b.context) + " is not a directory of the repository");
    }
    if (b.dockerfile.empty()) {
      b.dockerfile = fs::exists(r->abs / "Containerfile", ec) ? "Containerfile" : "Dockerfile";
    }
    const fs::path file = (r->abs / b.dockerfile).lexically_normal();
    if (!Within(r->abs, file) || !fs::is_regular_file(file, ec)) {
      return Err(v, p, "no " + b.dockerfile + " in the build context " + r->key);
    }
    auto key = Reference(v, p, *r, core::FileKind::kBuildContext, b.dockerfile);
    if (!key) return;
    b.context_key = *key;
    b.context_dir = r->abs.string();
    s.files.push_back(*key);
  }

  void EnvFiles(const Node& v, const std::string& p, core::Service& s,
                std::map<std::string, std::string>& env) {
    std::vector<const Node*> items;
    if (v.IsSequence()) {
      for (const auto& i : v.items) items.push_back(i.get());
    } else {
      items.push_back(&v);
    }
    for (std::size_t i = 0; i < items.size(); ++i) {
      const Node& item = *items[i];
      std::string q = v.IsSequence() ? p + "[" + std::to_string(i) + "]" : p;
      std::string file;
      bool required = true;
      const Node* at = &item;
      if (item.IsScalar()) {
        SetStr(item, q, file);
      } else if (item.IsMap()) {
        for (const auto& e : item.entries) {
          if (e.key == "path") {
            at = e.value.get();
            SetStr(*e.value, q + ".path", file);
          } else if (e.key == "required") {
            SetBool(*e.value, q + ".required", required);
          } else if (e.key == "format") {
            std::string f;
            SetStr(*e.value, q + ".format", f);
            if (f != "raw" && f != "") Err(*e.value, q + ".format", "only the default format is supported");
          } else {
            Unsupported(e, q);
          }
        }
        if (file.empty()) Err(item, q, "needs `path`");
      } else {
        TypeErr(item, q, "a path or a mapping with `path`");
        continue;
      }
      if (file.empty()) continue;
      auto r = ResolvePath(*at, q, file, Scope::kRepoOrSecrets);
      if (!r) continue;
      if (!r->exists) {
        if (required)
          Err(*at, q, "env file " + r->key + " does not exist (use `required: false` if optional)");
        continue;
      }
      auto text = ReadSmall(*at, q, *r);
      if (!text) continue;
      auto entries = ParseEnvFile(*text, r->key, vars_);
      if (!entries) {
        errors_.push_back(entries.error());
        continue;
      }
      for (const auto& [k, val] : *entries) env[k] = val;
      if (auto key = Reference(*at, q, *r, core::FileKind::kEnvFile)) s.files.push_back(*key);
    }
  }

  void Ports(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsSequence()) return TypeErr(v, p, "a list");
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const Node& item = *v.items[i];
      std::string q = p + "[" + std::to_string(i) + "]";
      core::Port port;
      if (item.IsScalar()) {
        auto text = Str(item, q);
        if (!text) continue;
        if (!ShortPort(*text, port)) {
          Err(item, q,
              "is not a valid port mapping: " + Quoted(*text) +
                  " (expected [ip:][host[-range]:]container[-range][/protocol])");
          continue;
        }
      } else if (item.IsMap()) {
        bool has_target = false;
        for (const auto& e : item.entries) {
          std::string r = q + "." + e.key;
          const Node& ev = *e.value;
          if (IsExtension(e.key)) continue;
          if (e.key == "target") {
            auto t = Str(ev, r);
            auto range = t ? ParsePortRange(*t) : std::nullopt;
            if (t && !range) Err(ev, r, "must be a port number, got " + Quoted(*t));
            if (range) port.target = *range;
            has_target = true;
          } else if (e.key == "published") {
            auto t = Str(ev, r);
            if (t && !t->empty()) {
              auto range = ParsePortRange(*t);
              if (!range)
                Err(ev, r, "must be a port or a port range, got " + Quoted(*t));
              else
                port.published = *range;
            }
          } else if (e.key == "host_ip")
            SetStr(ev, r, port.host_ip);
          else if (e.key == "protocol")
            SetStr(ev, r, port.protocol);
          else if (e.key == "mode")
            SetStr(ev, r, port.mode);
          else if (e.key == "name")
            SetStr(ev, r, port.name);
          else if (e.key == "app_protocol")
            SetStr(ev, r, port.app_protocol);
          else
            Unsupported(e, q);
        }
        if (!has_target) Err(item, q, "needs `target`");
      } else {
        TypeErr(item, q, "a string or a mapping");
        continue;
      }
      if (port.protocol != "tcp" && port.protocol != "udp" && port.protocol != "sctp") {
        Err(item, q, "protocol must be tcp, udp or sctp, got " + Quoted(port.protocol));
      }
      if (port.published.start != 0 &&
          port.published.end - port.published.start != port.target.end - port.target.start &&
          port.target.start != port.target.end) {
        Err(item, q, "the host and container port ranges differ in size");
      }
      s.ports.push_back(port);
    }
  }

  static bool ShortPort(std::string text, core::Port& port) {
    auto slash = text.rfind('/');
    if (slash != std::string::npos) {
      port.protocol = text.substr(slash + 1);
      text = text.substr(0, slash);
    }
    std::vector<std::string> parts;
    if (!text.empty() && text.front() == '[') {
      auto close = text.find(']');
      if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
      port.host_ip = text.substr(1, close - 1);
      text = text.substr(close + 2);
      parts.push_back(port.host_ip);
    }
    std::size_t start = 0;
    while (true) {
      auto c = text.find(':', start);
      parts.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    std::string host, target;
    if (parts.size() == 1) {
      target = parts[0];
    } else if (parts.size() == 2) {
      host = parts[0];
      target = parts[1];
    } else if (parts.size() == 3) {
      port.host_ip = parts[0];
      host = parts[1];
      target = parts[2];
      if (port.host_ip.empty()) return false;
    } else {
      return false;
    }
    auto t = ParsePortRange(target);
    if (!t) return false;
    port.target = *t;
    if (!host.empty()) {
      auto h = ParsePortRange(host);
      if (!h) return false;
      port.published = *h;
    }
    return true;
  }

  void Volumes(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsSequence()) return TypeErr(v, p, "a list");
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const Node& item = *v.items[i];
      std::string q = p + "[" + std::to_string(i) + "]";
      core::Mount m;
      if (item.IsScalar()) {
        auto text = Str(item, q);
        if (!text) continue;
        if (!ShortVolume(item, q, *text, m)) continue;
      } else if (item.IsMap()) {
        if (!LongVolume(item, q, m)) continue;
      } else {
        TypeErr(item, q, "a string or a mapping");
        continue;
      }
      if (m.target.empty() || m.target.front() != '/') {
        Err(item, q, "the container path must be absolute, got " + Quoted(m.target));
        continue;
      }
      if (m.type == core::MountType::kBind && !BindSource(item, q, m, s)) continue;
      if (m.type == core::MountType::kVolume && !m.source.empty())
        volume_refs_.push_back({s.name, m.source, item.mark, q});
      s.volumes.push_back(m);
    }
  }

  bool ShortVolume(const Node& item, const std::string& q, const std::string& text, core::Mount& m) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
      auto c = text.find(':', start);
      parts.push_back(text.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    if (parts.size() > 3 || parts.empty()) {
      Err(item, q, "is not a valid volume: " + Quoted(text) + " (expected [source:]target[:options])");
      return false;
    }
    if (parts.size() == 1) {
      m.type = core::MountType::kVolume;
      m.target = parts[0];
      return true;
    }
    const std::string& src = parts[0];
    m.target = parts[1];
    if (src.empty()) {
      Err(item, q, "the volume source is empty");
      return false;
    }
    bool path_like = src.front() == '/' || src.front() == '.' || src.front() == '~';
    m.type = path_like ? core::MountType::kBind : core::MountType::kVolume;
    m.source = src;
    if (parts.size() == 3) {
      std::size_t b = 0;
      const std::string& opts = parts[2];
      while (b <= opts.size()) {
        auto c = opts.find(',', b);
        std::string o = opts.substr(b, c == std::string::npos ? std::string::npos : c - b);
        if (o == "ro")
          m.read_only = true;
        else if (o == "rw")
          m.read_only = false;
        else if (o == "z" || o == "Z")
          m.selinux = o;
        else if (o == "U")
          m.chown = true;
        else if (o == "nocopy" && m.type == core::MountType::kVolume)
          m.nocopy = true;
        else if (m.type == core::MountType::kBind && (o == "shared" || o == "rshared" || o == "slave" ||
                                                      o == "rslave" || o == "private" || o == "rprivate"))
          m.propagation = o;
        else if (o == "delegated" || o == "cached" || o == "consistent") {
          // macOS-only consistency hints: no effect on Linux.
        } else {
          Err(item, q,
              "unsupported volume option " + Quoted(o) + " (known: ro, rw, z, Z, U, nocopy, propagation)");
          return false;
        }
        if (c == std::string::npos) break;
        b = c + 1;
      }
    }
    return true;
  }

  bool LongVolume(const Node& item, const std::string& q, core::Mount& m) {
    std::string type;
    for (const auto& e : item.entries) {
      if (e.key == "type") SetStr(*e.value, q + ".type", type);
    }
    if (type == "volume")
      m.type = core::MountType::kVolume;
    else if (type == "bind")
      m.type = core::MountType::kBind;
    else if (type == "tmpfs")
      m.type = core::MountType::kTmpfs;
    else {
      Err(item, q + ".type", "must be volume, bind or tmpfs, got " + Quoted(type));
      return false;
    }
    for (const auto& e : item.entries) {
      std::string r = q + "." + e.key;
      const Node& v = *e.value;
      if (IsExtension(e.key) || e.key == "type") continue;
      if (e.key == "source")
        SetStr(v, r, m.source);
      else if (e.key == "target")
        SetStr(v, r, m.target);
      else if (e.key == "read_only")
        SetBool(v, r, m.read_only);
      else if (e.key == "consistency") {
      } else if (e.key == "bind" && m.type == core::MountType::kBind) {
        if (!v.IsMap()) {
          TypeErr(v, r, "a mapping");
          continue;
        }
        for (const auto& f : v.entries) {
          std::string t = r + "." + f.key;
          if (f.key == "propagation")
            SetStr(*f.value, t, m.propagation);
          else if (f.key == "create_host_path")
            SetBool(*f.value, t, m.create_host_path);
          else if (f.key == "selinux") {
            SetStr(*f.value, t, m.selinux);
            if (m.selinux != "z" && m.selinux != "Z") Err(*f.value, t, "must be z or Z");
          } else
            Unsupported(f, r);
        }
      } else if (e.key == "volume" && m.type == core::MountType::kVolume) {
        if (!v.IsMap()) {
          TypeErr(v, r, "a mapping");
          continue;
        }
        for (const auto& f : v.entries) {
          std::string t = r + "." + f.key;
          if (f.key == "nocopy")
            SetBool(*f.value, t, m.nocopy);
          else if (f.key == "subpath")
            SetStr(*f.value, t, m.subpath);
          else
            Unsupported(f, r);
        }
      } else if (e.key == "tmpfs" && m.type == core::MountType::kTmpfs) {
        if (!v.IsMap()) {
          TypeErr(v, r, "a mapping");
          continue;
        }
        for (const auto& f : v.entries) {
          std::string t = r + "." + f.key;
          if (f.key == "size")
            m.tmpfs_size = Size(*f.value, t).value_or(0);
          else if (f.key == "mode")
            m.tmpfs_mode = Mode(*f.value, t);
          else
            Unsupported(f, r);
        }
      } else {
        Unsupported(e, q);
      }
    }
    if (m.type == core::MountType::kBind && m.source.empty()) {
      Err(item, q, "a bind mount needs `source`");
      return false;
    }
    if (m.type == core::MountType::kTmpfs && !m.source.empty()) {
      Err(item, q, "a tmpfs mount takes no `source`");
      return false;
    }
    return true;
  }

  bool BindSource(const Node& item, const std::string& q, core::Mount& m, core::Service& s) {
    bool outside = false;
    auto r = ResolvePath(item, q, m.source, Scope::kAnywhere, &outside);
    if (!r) return false;
    if (outside) {
      m.source = r->abs.string();
      return true;
    }
    m.source = r->abs.string();
    m.repo_path = r->key;
    auto key = Reference(item, q, *r, core::FileKind::kBindFile);
    if (!key) return false;
    s.files.push_back(*key);
    return true;
  }

  void ServiceNetworks(const Node& v, const std::string& p, core::Service& s) {
    if (v.IsSequence()) {
      for (auto& n : StrList(v, p, false)) s.networks[n] = {};
    } else if (v.IsMap()) {
      for (const auto& e : v.entries) {
        std::string q = p + "." + e.key;
        core::ServiceNetwork sn;
        if (e.value->IsMap()) {
          for (const auto& f : e.value->entries) {
            std::string r = q + "." + f.key;
            if (IsExtension(f.key)) continue;
            if (f.key == "aliases")
              sn.aliases = StrList(*f.value, r, false);
            else if (f.key == "ipv4_address")
              SetStr(*f.value, r, sn.ipv4_address);
            else if (f.key == "ipv6_address")
              SetStr(*f.value, r, sn.ipv6_address);
            else if (f.key == "priority")
              sn.priority = Int(*f.value, r);
            else
              Unsupported(f, q);
          }
        } else if (!e.value->IsNull()) {
          TypeErr(*e.value, q, "a mapping or null");
        }
        s.networks[e.key] = sn;
      }
    } else {
      return TypeErr(v, p, "a list or a mapping");
    }
    for (const auto& [n, _] : s.networks) network_refs_.push_back({s.name, n, v.mark, p});
  }

  void HealthcheckDef(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsMap()) return TypeErr(v, p, "a mapping");
    core::Healthcheck h;
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      const Node& ev = *e.value;
      if (IsExtension(e.key)) continue;
      if (e.key == "test") {
        if (ev.IsScalar()) {
          auto t = Str(ev, q);
          if (t) h.test = {"CMD-SHELL", *t};
        } else {
          h.test = StrList(ev, q, false);
          if (!h.test.empty() && h.test[0] != "NONE" && h.test[0] != "CMD" && h.test[0] != "CMD-SHELL") {
            Err(ev, q, "a list must start with NONE, CMD or CMD-SHELL");
          }
        }
      } else if (e.key == "interval")
        h.interval = Duration(ev, q).value_or(core::Nanos(0));
      else if (e.key == "timeout")
        h.timeout = Duration(ev, q).value_or(core::Nanos(0));
      else if (e.key == "start_period")
        h.start_period = Duration(ev, q).value_or(core::Nanos(0));
      else if (e.key == "start_interval")
        h.start_interval = Duration(ev, q).value_or(core::Nanos(0));
      else if (e.key == "retries")
        h.retries = Int(ev, q).value_or(0);
      else if (e.key == "disable")
        SetBool(ev, q, h.disable);
      else
        Unsupported(e, p);
    }
    if (!h.test.empty() && h.test[0] == "NONE") h.disable = true;
    if (h.disable) h = core::Healthcheck{.test = {"NONE"}, .disable = true};
    s.healthcheck = h;
  }

  void DependsOnDef(const Node& v, const std::string& p, core::Service& s) {
    if (v.IsSequence()) {
      for (auto& n : StrList(v, p, false)) {
        s.depends_on[n] = {};
        service_refs_.push_back({s.name, n, v.mark, p});
      }
      return;
    }
    if (!v.IsMap()) return TypeErr(v, p, "a list or a mapping");
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      core::DependsOn d;
      if (e.value->IsMap()) {
        for (const auto& f : e.value->entries) {
          std::string r = q + "." + f.key;
          if (f.key == "condition") {
            SetStr(*f.value, r, d.condition);
            if (d.condition != "service_started" && d.condition != "service_healthy" &&
                d.condition != "service_completed_successfully") {
              Err(*f.value, r,
                  "must be service_started, service_healthy or service_completed_successfully, got " +
                      Quoted(d.condition));
            }
          } else if (f.key == "restart")
            SetBool(*f.value, r, d.restart);
          else if (f.key == "required")
            SetBool(*f.value, r, d.required);
          else
            Unsupported(f, q);
        }
      } else if (!e.value->IsNull()) {
        TypeErr(*e.value, q, "a mapping");
      }
      s.depends_on[e.key] = d;
      service_refs_.push_back({s.name, e.key, e.key_mark, q});
    }
  }

  std::vector<std::string> Caps(const Node& v, const std::string& p) {
    std::vector<std::string> out;
    for (auto c : StrList(v, p, false)) {
      for (auto& ch : c) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      if (c.starts_with("CAP_")) c = c.substr(4);
      out.push_back(c);
    }
    return SortedUnique(std::move(out));
  }

  void ExtraHosts(const Node& v, const std::string& p, core::Service& s) {
    if (v.IsMap()) {
      for (const auto& e : v.entries) {
        if (auto ip = Str(*e.value, p + "." + e.key)) s.extra_hosts.push_back(e.key + ":" + *ip);
      }
      return;
    }
    for (auto h : StrList(v, p, false)) {
      auto sep = h.find_first_of(":=");
      if (sep == std::string::npos || sep == 0 || sep + 1 >= h.size()) {
        Err(v, p, "entries must be host:ip or host=ip, got " + Quoted(h));
        continue;
      }
      h[sep] = ':';
      s.extra_hosts.push_back(h);
    }
  }

  void LoggingDef(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsMap()) return TypeErr(v, p, "a mapping");
    core::Logging l;
    for (const auto& e : v.entries) {
      if (e.key == "driver")
        SetStr(*e.value, p + ".driver", l.driver);
      else if (e.key == "options")
        l.options = StrMap(*e.value, p + ".options");
      else
        Unsupported(e, p);
    }
    s.logging = l;
  }

  void ResourcesDef(const Node& v, const std::string& p, core::Resources& r, bool limits) {
    if (!v.IsMap()) return TypeErr(v, p, "a mapping");
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      if (e.key == "cpus")
        r.nano_cpus = NanoCpus(*e.value, q).value_or(0);
      else if (e.key == "memory")
        r.memory = Size(*e.value, q).value_or(0);
      else if (e.key == "pids" && limits)
        r.pids = Int(*e.value, q).value_or(0);
      else
        Unsupported(e, p);
    }
  }

  void DeployDef(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsMap()) return TypeErr(v, p, "a mapping");
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      if (IsExtension(e.key)) continue;
      if (e.key != "resources") {
        Unsupported(e, p);
        continue;
      }
      if (!e.value->IsMap()) {
        TypeErr(*e.value, q, "a mapping");
        continue;
      }
      for (const auto& f : e.value->entries) {
        std::string r = q + "." + f.key;
        if (f.key == "limits")
          ResourcesDef(*f.value, r, s.deploy.limits, true);
        else if (f.key == "reservations")
          ResourcesDef(*f.value, r, s.deploy.reservations, false);
        else
          Unsupported(f, q);
      }
    }
  }

  void Ulimits(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsMap()) return TypeErr(v, p, "a mapping");
    for (const auto& e : v.entries) {
      std::string q = p + "." + e.key;
      core::Ulimit u;
      if (e.value->IsMap()) {
        bool soft = false, hard = false;
        for (const auto& f : e.value->entries) {
          if (f.key == "soft") {
            u.soft = Int(*f.value, q + ".soft").value_or(0);
            soft = true;
          } else if (f.key == "hard") {
            u.hard = Int(*f.value, q + ".hard").value_or(0);
            hard = true;
          } else
            Unsupported(f, q);
        }
        if (!soft || !hard) Err(*e.value, q, "needs both `soft` and `hard`");
      } else {
        u.soft = u.hard = Int(*e.value, q).value_or(0);
      }
      s.ulimits[e.key] = u;
    }
  }

  void Devices(const Node& v, const std::string& p, core::Service& s) {
    if (!v.IsSequence()) return TypeErr(v, p, "a list");
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const Node& item = *v.items[i];
      std::string q = p + "[" + std::to_string(i) + "]";
      core::Device d;
      if (item.IsScalar()) {
        auto t = Str(item, q);
        if (!t) continue;
        auto a = t->find(':');
        d.host_path = t->substr(0, a);
        if (a != std::string::npos) {
          auto b = t->find(':', a + 1);
          d.container_path = t->substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
          if (b != std::string::npos) d.permissions = t->substr(b + 1);
        }
      } else if (item.IsMap()) {
        for (const auto& e : item.entries) {
          if (e.key == "source")
            SetStr(*e.value, q + ".source", d.host_path);
          else if (e.key == "target")
            SetStr(*e.value, q + ".target", d.container_path);
          else if (e.key == "permissions")
            SetStr(*e.value, q + ".permissions", d.permissions);
          else
            Unsupported(e, q);
        }
      } else {
        TypeErr(item, q, "a string or a mapping");
        continue;
      }
      if (d.host_path.empty()) {
        Err(item, q, "the device path is empty");
        continue;
      }
      s.devices.push_back(d);
    }
  }

  std::vector<core::FileObjectRef> FileObjectRefs(const Node& v, const std::string& p,
                                                  const std::map<std::string, core::FileObjectDef>&,
                                                  const std::string& what) {
    std::vector<core::FileObjectRef> out;
    if (!v.IsSequence()) {
      TypeErr(v, p, "a list");
      return out;
    }
    for (std::size_t i = 0; i < v.items.size(); ++i) {
      const Node& item = *v.items[i];
      std::string q = p + "[" + std::to_string(i) + "]";
      core::FileObjectRef r;
      if (item.IsScalar()) {
        SetStr(item, q, r.source);
      } else if (item.IsMap()) {
        for (const auto& e : item.entries) {
          std::string t = q + "." + e.key;
          if (e.key == "source")
            SetStr(*e.value, t, r.source);
          else if (e.key == "target")
            SetStr(*e.value, t, r.target);
          else if (e.key == "uid")
            SetStr(*e.value, t, r.uid);
          else if (e.key == "gid")
            SetStr(*e.value, t, r.gid);
          else if (e.key == "mode")
            r.mode = Mode(*e.value, t);
          else
            Unsupported(e, q);
        }
      } else {
        TypeErr(item, q, "a string or a mapping");
        continue;
      }
      object_refs_.push_back({what, r.source, item.mark, q});
      out.push_back(r);
    }
    return out;
  }

  // ---------- cross references, links, file lists
  struct Ref {
    std::string from;
    std::string to;
    tree::Mark mark;
    std::string path;
  };

  void Resolve() {
    std::sort(out_.services.begin(), out_.services.end(),
              [](const core::Service& a, const core::Service& b) { return a.name < b.name; });
    auto has_service = [&](const std::string& n) { return out_.Find(n) != nullptr; };
    for (const auto& r : service_refs_) {
      if (!has_service(r.to)) ErrAt(r.mark, r.path, "refers to unknown service " + Quoted(r.to));
    }
    for (const auto& r : network_refs_) {
      if (r.to == "default" && !out_.networks.contains("default")) {
        out_.networks["default"] = DefaultNetwork();
      } else if (!out_.networks.contains(r.to)) {
        ErrAt(r.mark, r.path,
              "refers to network " + Quoted(r.to) + ", which the top-level `networks` does not define");
      }
    }
    for (const auto& s : out_.services) {
      if (s.networks.contains("default") && !out_.networks.contains("default")) {
        out_.networks["default"] = DefaultNetwork();
      }
    }
    for (const auto& r : volume_refs_) {
      if (!out_.volumes.contains(r.to)) {
        ErrAt(r.mark, r.path, "named volume " + Quoted(r.to) + " is not defined in the top-level `volumes`");
      }
    }
    for (const auto& r : object_refs_) {
      const auto& defs = r.from == "configs" ? out_.configs : out_.secrets;
      if (!defs.contains(r.to)) {
        ErrAt(r.mark, r.path,
              "refers to " + Quoted(r.to) + ", which the top-level `" + r.from + "` does not define");
      }
    }
    // links: "db:database" makes "database" an alias of db on db's networks.
    for (auto& s : out_.services) {
      for (const auto& l : s.links) {
        auto c = l.find(':');
        std::string target = l.substr(0, c);
        std::string alias = c == std::string::npos ? target : l.substr(c + 1);
        core::Service* t = nullptr;
        for (auto& o : out_.services) {
          if (o.name == target) t = &o;
        }
        if (!t) {
          Err(Node{}, "services." + s.name + ".links", "refers to unknown service " + Quoted(target));
          continue;
        }
        if (alias != target) {
          for (auto& [_, n] : t->networks) n.aliases.push_back(alias);
        }
      }
    }
    for (auto& s : out_.services) {
      for (auto& [_, n] : s.networks) n.aliases = SortedUnique(std::move(n.aliases));
      for (const auto& c : s.configs) {
        if (auto it = out_.configs.find(c.source); it != out_.configs.end() && !it->second.file.empty()) {
          s.files.push_back(it->second.file);
        }
      }
      for (const auto& c : s.secrets) {
        if (auto it = out_.secrets.find(c.source); it != out_.secrets.end() && !it->second.file.empty()) {
          s.files.push_back(it->second.file);
        }
      }
      s.files = SortedUnique(std::move(s.files));
    }
    std::set<std::string> names;
    for (const auto& s : out_.services) {
      if (!s.container_name.empty() && !names.insert(s.container_name).second) {
        Err(Node{}, "services." + s.name + ".container_name",
            "is used by two services: " + Quoted(s.container_name));
      }
    }
  }

  core::NetworkDef DefaultNetwork() const {
    core::NetworkDef d;
    d.name = out_.name + "_default";
    return d;
  }

  const StackDir& stack_;
  const LoadOptions& opt_;
  fs::path repo_, secrets_, dir_;
  std::string file_;
  std::uintmax_t budget_ = 0;
  Lookup vars_;
  std::set<std::string> from_env_;
  core::Stack out_;
  LoadErrors errors_;
  std::vector<Ref> service_refs_, network_refs_, volume_refs_, object_refs_;
  std::map<std::string, tree::Mark> marks_;
};

}  // namespace

Expected<std::vector<std::string>> SplitCommand(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string_view::npos)
        return Fail(ErrorCode::kInvalidArgument, "unterminated single quote");
      cur += text.substr(i + 1, end - i - 1);
      i = end;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() &&
            (text[j + 1] == '"' || text[j + 1] == '\\' || text[j + 1] == '$' || text[j + 1] == '`')) {
          ++j;
        }
        cur += text[j];
      }
      if (j >= text.size()) return Fail(ErrorCode::kInvalidArgument, "unterminated double quote");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < text.size()) cur += text[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

Lookup HostEnv(const std::vector<std::string>& names) {
  std::map<std::string, std::string> vars;
  for (const auto& n : names) {
    if (const char* v = std::getenv(n.c_str())) vars[n] = v;
  }
  return MapLookup(vars);
}

Expected<Discovery> DiscoverStacks(const fs::path& repo_root, std::string_view services_dir) {
  fs::path dir = repo_root / services_dir;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kNotFound, "the services directory does not exist", dir.string());
  }
  Discovery out;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.starts_with(".")) continue;
    if (!it->is_directory(ec) || it->is_symlink(ec)) continue;
    if (!IsValidStackName(name)) {
      out.errors.emplace_back(name,
                              Error{ErrorCode::kInvalidArgument,
                                    "invalid stack directory name (must match ^[a-z0-9][a-z0-9_.-]{0,62}$)",
                                    it->path().string()});
      continue;
    }
    std::vector<fs::path> found;
    for (auto f : kComposeFileNames) {
      fs::path p = it->path() / f;
      if (fs::exists(fs::symlink_status(p, ec))) found.push_back(p);
    }
    if (found.empty()) {
      out.errors.emplace_back(name, Error{ErrorCode::kNotFound,
                                          "no compose file (compose.yaml, compose.yml, "
                                          "podman-compose.yml or docker-compose.yml)",
                                          it->path().string()});
      continue;
    }
    if (found.size() > 1) {
      std::string list;
      for (const auto& f : found) list += (list.empty() ? "" : ", ") + f.filename().string();
      out.errors.emplace_back(name, Error{ErrorCode::kInvalidArgument, "more than one compose file: " + list,
                                          it->path().string()});
      continue;
    }
    out.stacks.push_back(StackDir{name, fs::absolute(it->path()), fs::absolute(found.front())});
  }
  if (ec) return Fail(ErrorCode::kIo, "cannot list the services directory: " + ec.message(), dir.string());
  std::sort(out.stacks.begin(), out.stacks.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(out.errors.begin(), out.errors.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::expected<core::Stack, LoadErrors> LoadStackFromText(std::string_view text, const StackDir& stack,
                                                         const LoadOptions& options) {
  if (text.size() > options.max_file_bytes) {
    return std::unexpected(
        LoadErrors{Error{ErrorCode::kInvalidArgument,
                         "file is " + std::to_string(text.size()) + " bytes, over the limit of " +
                             std::to_string(options.max_file_bytes),
                         stack.compose_file.string()}});
  }
  Loader l(stack, options);
  return l.Run(text);
}

std::expected<core::Stack, LoadErrors> LoadStack(const StackDir& stack, const LoadOptions& options) {
  std::error_code ec;
  fs::path repo = fs::weakly_canonical(fs::absolute(options.repo_root), ec);
  fs::path c = fs::weakly_canonical(stack.compose_file, ec);
  if (ec || !Within(repo, c)) {
    return std::unexpected(
        LoadErrors{Error{ErrorCode::kPermissionDenied, "the compose file resolves outside the repository",
                         stack.compose_file.string()}});
  }
  if (!fs::is_regular_file(c, ec)) {
    return std::unexpected(LoadErrors{Error{
        ErrorCode::kInvalidArgument, "the compose file is not a regular file", stack.compose_file.string()}});
  }
  auto text = ReadFile(c, options.max_file_bytes);
  if (!text) return std::unexpected(LoadErrors{text.error().WithContext(stack.compose_file.string())});
  return LoadStackFromText(*text, stack, options);
}

Expected<RepoLoad> LoadRepository(std::string_view services_dir, const LoadOptions& options) {
  auto found = DiscoverStacks(options.repo_root, services_dir);
  if (!found) return std::unexpected(found.error());
  RepoLoad out;
  for (auto& [name, error] : found->errors) out.invalid[name].push_back(std::move(error));
  for (const auto& dir : found->stacks) {
    auto stack = LoadStack(dir, options);
    if (stack) {
      out.stacks.push_back(std::move(*stack));
    } else {
      out.invalid[dir.name] = std::move(stack.error());
    }
  }
  return out;
}

}  // namespace podcd::compose
