#include "state/controls.hpp"

#include <algorithm>

#include "state/deployment.hpp"
#include "state/stacks_file_internal.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace {

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
  return EncodeStacksFile([&](json::Writer& w) {
    for (const auto& [stack, c] : controls) {
      if (c.Empty()) continue;
      w.Key(stack.c_str(), static_cast<rapidjson::SizeType>(stack.size()));
      w.StartObject();
      WriteControl(w, c);
      w.EndObject();
    }
  });
}

Expected<StackControls> DecodeStackControls(std::string_view text, const std::string& where) {
  StackControls out;
  auto read = DecodeStacksFile(
      text, where,
      [&](const std::string& stack, const rapidjson::Value& v, const std::string& at) -> Expected<void> {
        if (!v.IsObject()) return Fail(ErrorCode::kInvalidArgument, "not an object", at);
        StackControl c;
        auto s = ReadSuspension(v, at);
        if (!s) return std::unexpected(s.error());
        auto p = ReadPin(v, at);
        if (!p) return std::unexpected(p.error());
        c.suspended = std::move(*s);
        c.pinned = std::move(*p);
        if (!c.Empty()) out.emplace(stack, std::move(c));
        return {};
      });
  if (!read) return std::unexpected(read.error());
  return out;
}

Expected<StackControls> ReadStackControls(const std::filesystem::path& file) {
  auto text = ReadStacksFile(file, 4u << 20);
  if (!text) return std::unexpected(text.error());
  if (!*text) return StackControls{};
  return DecodeStackControls(**text, file.string());
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
  auto lock = LockStacksFile(file_);
  if (!lock) return std::unexpected(lock.error());
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
