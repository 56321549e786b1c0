#include "state/audit.hpp"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "state/deployment.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace fs = std::filesystem;

namespace {

// A file of 2 x 10,000 entries at their caps is about 50 MB: more is not ours.
constexpr std::uintmax_t kMaxFileBytes = 96u << 20;

void Cap(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a character
  s.resize(n);
}

Expected<void> WriteAll(int fd, std::string_view text, const fs::path& path) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(ErrorCode::kIo, std::string("write: ") + std::strerror(errno), path.string());
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

AuditEntry Bounded(AuditEntry e) {
  for (std::string* f : {&e.actor, &e.address, &e.action, &e.target, &e.result, &e.detail}) {
    log::MaskSecrets(*f);
    Cap(*f, f == &e.detail ? kMaxAuditDetailBytes : kMaxAuditFieldBytes);
  }
  return e;
}

std::string ToJson(const AuditEntry& e) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "at_ms", e.at_ms);
  json::Str(w, "at", Rfc3339Ms(e.at_ms));
  json::Str(w, "actor", e.actor);
  json::Str(w, "address", e.address);
  json::Str(w, "action", e.action);
  json::Str(w, "target", e.target);
  json::Str(w, "result", e.result);
  json::Str(w, "detail", e.detail);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::optional<AuditEntry> AuditEntryFromJson(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  AuditEntry e{json::GetInt(doc, "at_ms"),  json::GetStr(doc, "actor"),  json::GetStr(doc, "address"),
               json::GetStr(doc, "action"), json::GetStr(doc, "target"), json::GetStr(doc, "result"),
               json::GetStr(doc, "detail")};
  if (e.action.empty()) return std::nullopt;
  return Bounded(std::move(e));
}

bool AuditFilter::Matches(const AuditEntry& e) const {
  return e.actor.find(actor) != std::string::npos && e.action.find(action) != std::string::npos &&
         e.target.find(target) != std::string::npos;
}

AuditLog::AuditLog(fs::path path, AuditOptions options) : path_(std::move(path)), options_(options) {}

AuditLog::~AuditLog() {
  if (auto data = data_.Lock(); data->fd >= 0) ::close(data->fd);
}

Expected<std::unique_ptr<AuditLog>> AuditLog::Open(const fs::path& state_dir, AuditOptions options) {
  std::error_code ec;
  fs::create_directories(state_dir, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot create state directory: " + ec.message(), state_dir.string());
  if (options.max_entries == 0) options.max_entries = 1;
  std::unique_ptr<AuditLog> log(new AuditLog(state_dir / "audit.log", options));
  auto data = log->data_.Lock();
  if (auto r = log->Load(*data); !r) return std::unexpected(r.error());
  return log;
}

Expected<void> AuditLog::Load(Data& data) {
  bool rewrite = false;
  if (fs::exists(path_)) {
    auto text = ReadFile(path_, kMaxFileBytes);
    if (!text) return std::unexpected(text.error());
    std::string_view rest = *text;
    // A last line without its newline is torn (a crash mid-write): skipped, and the file
    // rewritten, or the next entry would be appended to the torn bytes and lost with them.
    rewrite = !rest.empty() && rest.back() != '\n';
    std::size_t number = 0;
    while (!rest.empty()) {
      auto nl = rest.find('\n');
      if (nl == std::string_view::npos) break;
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl + 1);
      ++number;
      ++data.lines;
      auto e = AuditEntryFromJson(line);
      if (!e) {
        log::Warn("skipping a malformed audit log line",
                  {{"file", path_.string()}, {"line", std::to_string(number)}});
        continue;
      }
      data.entries.push_back(std::move(*e));
      if (data.entries.size() > options_.max_entries) data.entries.pop_front();
    }
    rewrite = rewrite || data.lines > data.entries.size();
  }
  if (rewrite) return Rewrite(data);
  data.fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (data.fd < 0) return Fail(ErrorCode::kIo, std::string("open: ") + std::strerror(errno), path_.string());
  // An older file (or one restored from a backup) may be readable by others: the trail names
  // users and addresses.
  if (::fchmod(data.fd, 0600) != 0)
    return Fail(ErrorCode::kIo, std::string("chmod: ") + std::strerror(errno), path_.string());
  return {};
}

Expected<void> AuditLog::Rewrite(Data& data) {
  std::string text;
  for (const auto& e : data.entries) text += ToJson(e) + "\n";
  if (auto r = WriteFileAtomic(path_, text); !r) return r;  // mkstemp: mode 0600
  if (data.fd >= 0) ::close(data.fd);
  data.fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (data.fd < 0) return Fail(ErrorCode::kIo, std::string("open: ") + std::strerror(errno), path_.string());
  data.lines = data.entries.size();
  return {};
}

Expected<void> AuditLog::Append(AuditEntry entry) {
  entry = Bounded(std::move(entry));
  if (entry.at_ms == 0) entry.at_ms = NowMs();
  std::string line = ToJson(entry) + "\n";
  auto data = data_.Lock();
  data->entries.push_back(std::move(entry));
  if (data->entries.size() > options_.max_entries) data->entries.pop_front();
  if (data->lines + 1 > 2 * options_.max_entries) return Rewrite(*data);
  if (data->fd < 0) return Fail(ErrorCode::kIo, "the audit log is not open", path_.string());
  ++data->lines;
  return WriteAll(data->fd, line, path_);
}

std::vector<AuditEntry> AuditLog::List(std::size_t limit, const AuditFilter& filter) const {
  std::vector<AuditEntry> out;
  auto data = data_.Lock();
  for (auto it = data->entries.rbegin(); it != data->entries.rend() && out.size() < limit; ++it) {
    if (filter.Matches(*it)) out.push_back(*it);
  }
  return out;
}

std::size_t AuditLog::Size() const { return data_.Lock()->entries.size(); }

}  // namespace podcd::state
