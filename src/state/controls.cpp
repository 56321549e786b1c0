#include "state/controls.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "state/deployment.hpp"
#include "util/json.hpp"
#include "util/scope_exit.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace {

constexpr int kVersion = 1;

void WriteSuspension(json::Writer& w, const Suspension& s) {
  w.StartObject();
  json::Str(w, "by", s.by);
  json::Int(w, "at_ms", s.at_ms);
  json::Str(w, "at", Rfc3339Ms(s.at_ms));
  json::Str(w, "note", s.note);
  w.EndObject();
}

void WritePin(json::Writer& w, const Pin& p) {
  w.StartObject();
  json::Str(w, "deployment", p.deployment);
  json::Str(w, "commit", p.commit);
  json::Str(w, "by", p.by);
  json::Int(w, "at_ms", p.at_ms);
  json::Str(w, "at", Rfc3339Ms(p.at_ms));
  w.EndObject();
}

void WriteControl(json::Writer& w, const StackControl& c) {
  w.Key("suspended");
  if (c.suspended)
    WriteSuspension(w, *c.suspended);
  else
    w.Null();
  w.Key("pinned");
  if (c.pinned)
    WritePin(w, *c.pinned);
  else
    w.Null();
}

// A string member that must be there (`required`) or may be missing; any other type is an error.
Expected<std::string> Member(const rapidjson::Value& o, const char* key, bool required,
                             const std::string& where) {
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) {
    if (!required) return std::string();
    return Fail(ErrorCode::kInvalidArgument, std::string("missing field \"") + key + "\"", where);
  }
  if (!it->value.IsString())
    return Fail(ErrorCode::kInvalidArgument, std::string("field \"") + key + "\" is not a string", where);
  // Repaired as the writer repairs it (json::String), so that what is read writes back the same.
  return json::ValidUtf8(std::string_view(it->value.GetString(), it->value.GetStringLength()));
}

// A deployment id ("20261202-103000-000004") or a commit (hex): nothing else may be pinned.
bool Plain(std::string_view text) {
  return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-';
  });
}

Expected<std::int64_t> Millis(const rapidjson::Value& o, const std::string& where) {
  auto it = o.FindMember("at_ms");
  if (it == o.MemberEnd() || !it->value.IsInt64() || it->value.GetInt64() < 0)
    return Fail(ErrorCode::kInvalidArgument, "field \"at_ms\" is missing or not a time in milliseconds",
                where);
  return it->value.GetInt64();
}

Expected<std::optional<Suspension>> ReadSuspension(const rapidjson::Value& o, const std::string& where) {
  auto it = o.FindMember("suspended");
  if (it == o.MemberEnd() || it->value.IsNull()) return std::optional<Suspension>();
  if (!it->value.IsObject())
    return Fail(ErrorCode::kInvalidArgument, "\"suspended\" is not an object", where);
  const std::string at = where + ".suspended";
  Suspension s;
  auto by = Member(it->value, "by", true, at);
  if (!by) return std::unexpected(by.error());
  auto note = Member(it->value, "note", false, at);
  if (!note) return std::unexpected(note.error());
  auto ms = Millis(it->value, at);
  if (!ms) return std::unexpected(ms.error());
  s.by = std::move(*by);
  s.note = std::move(*note);
  s.at_ms = *ms;
  return std::optional<Suspension>(std::move(s));
}

Expected<std::optional<Pin>> ReadPin(const rapidjson::Value& o, const std::string& where) {
  auto it = o.FindMember("pinned");
  if (it == o.MemberEnd() || it->value.IsNull()) return std::optional<Pin>();
  if (!it->value.IsObject()) return Fail(ErrorCode::kInvalidArgument, "\"pinned\" is not an object", where);
  const std::string at = where + ".pinned";
  Pin p;
  for (auto [key, field] :
       {std::pair{"deployment", &p.deployment}, std::pair{"commit", &p.commit}, std::pair{"by", &p.by}}) {
    auto v = Member(it->value, key, true, at);
    if (!v) return std::unexpected(v.error());
    *field = std::move(*v);
  }
  if (!Plain(p.deployment) || !Plain(p.commit))
    return Fail(ErrorCode::kInvalidArgument, "the deployment or the commit is empty or not an id", at);
  auto ms = Millis(it->value, at);
  if (!ms) return std::unexpected(ms.error());
  p.at_ms = *ms;
  return std::optional<Pin>(std::move(p));
}

}  // namespace

std::filesystem::path StackControlsPath(const std::filesystem::path& state_dir) {
  return state_dir / "stack-controls.json";
}

std::string EncodeStackControls(const StackControls& controls) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "version", kVersion);
  w.Key("stacks");
  w.StartObject();
  for (const auto& [stack, c] : controls) {
    if (c.Empty()) continue;
    w.Key(stack.c_str(), static_cast<rapidjson::SizeType>(stack.size()));
    w.StartObject();
    WriteControl(w, c);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Expected<StackControls> DecodeStackControls(std::string_view text, const std::string& where) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return Fail(ErrorCode::kInvalidArgument, "damaged: not a JSON object", where);
  if (json::GetInt(doc, "version") != kVersion)
    return Fail(ErrorCode::kInvalidArgument, "unknown version (this podcd reads version 1)", where);
  auto stacks = doc.FindMember("stacks");
  if (stacks == doc.MemberEnd() || !stacks->value.IsObject())
    return Fail(ErrorCode::kInvalidArgument, "damaged: \"stacks\" is missing or not an object", where);
  StackControls out;
  for (auto it = stacks->value.MemberBegin(); it != stacks->value.MemberEnd(); ++it) {
    const std::string name(it->name.GetString(), it->name.GetStringLength());
    const std::string at = where + ": stack " + json::Quoted(name.substr(0, 80));
    if (!IsValidStackName(name)) return Fail(ErrorCode::kInvalidArgument, "not a valid stack name", at);
    if (!it->value.IsObject()) return Fail(ErrorCode::kInvalidArgument, "not an object", at);
    StackControl c;
    auto s = ReadSuspension(it->value, at);
    if (!s) return std::unexpected(s.error());
    auto p = ReadPin(it->value, at);
    if (!p) return std::unexpected(p.error());
    c.suspended = std::move(*s);
    c.pinned = std::move(*p);
    if (!c.Empty()) out.emplace(name, std::move(c));
  }
  return out;
}

Expected<StackControls> ReadStackControls(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot be read: " + ec.message(), file.string());
    return StackControls{};
  }
  auto text = ReadFile(file, 4u << 20);
  if (!text) return std::unexpected(text.error().WithContext(file.string()));
  return DecodeStackControls(*text, file.string());
}

std::string StackControlJson(const std::string& stack, const StackControl& control) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Str(w, "stack", stack);
  json::Str(w, "state", control.suspended ? "suspended" : control.pinned ? "pinned" : "active");
  WriteControl(w, control);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string SuspensionJson(const Suspension& s) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  WriteSuspension(w, s);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string PinJson(const Pin& p) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  WritePin(w, p);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string DescribeSuspension(const Suspension& s) {
  std::string out =
      "suspended by " + (s.by.empty() ? std::string("someone") : s.by) + " at " + Rfc3339Ms(s.at_ms);
  if (!s.note.empty()) out += " (note: " + s.note + ")";
  return out;
}

Expected<StackControl> StackControlsFile::Update(const std::string& stack,
                                                 const std::function<Expected<void>(StackControl&)>& change) {
  if (!IsValidStackName(stack)) return Fail(ErrorCode::kInvalidArgument, "not a valid stack name", stack);
  std::lock_guard guard(mutex_);
  // Another process (a second daemon by mistake, an operator's tool) takes the same lock.
  const std::string lock_path = file_.string() + ".lock";
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("cannot open: ") + std::strerror(errno), lock_path);
  ScopeExit close_fd([fd] { ::close(fd); });
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR)
      return Fail(ErrorCode::kIo, std::string("cannot lock: ") + std::strerror(errno), lock_path);
  }
  auto all = ReadStackControls(file_);
  if (!all) return std::unexpected(all.error());
  StackControl c;
  if (auto it = all->find(stack); it != all->end()) c = it->second;
  if (auto r = change(c); !r) return std::unexpected(r.error());
  if (c.Empty())
    all->erase(stack);
  else
    (*all)[stack] = c;
  if (auto r = WriteFileAtomic(file_, EncodeStackControls(*all)); !r) return std::unexpected(r.error());
  return c;
}

}  // namespace podcd::state
