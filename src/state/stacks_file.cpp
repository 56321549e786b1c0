#include "state/stacks_file_internal.hpp"

#include "util/strings.hpp"

namespace podcd::state {
namespace {

constexpr int kVersion = 1;

}  // namespace

std::string EncodeStacksFile(const std::function<void(json::Writer&)>& stacks) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "version", kVersion);
  w.Key("stacks");
  w.StartObject();
  stacks(w);
  w.EndObject();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

Expected<void> DecodeStacksFile(std::string_view text, const std::string& where, const StackReader& read) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return Fail(ErrorCode::kInvalidArgument, "damaged: not a JSON object", where);
  if (json::GetInt(doc, "version") != kVersion)
    return Fail(ErrorCode::kInvalidArgument, "unknown version (this podcd reads version 1)", where);
  auto stacks = doc.FindMember("stacks");
  if (stacks == doc.MemberEnd() || !stacks->value.IsObject())
    return Fail(ErrorCode::kInvalidArgument, "damaged: \"stacks\" is missing or not an object", where);
  for (auto it = stacks->value.MemberBegin(); it != stacks->value.MemberEnd(); ++it) {
    const std::string stack(it->name.GetString(), it->name.GetStringLength());
    const std::string at = where + ": stack " + json::Quoted(stack.substr(0, 80));
    if (!IsValidStackName(stack)) return Fail(ErrorCode::kInvalidArgument, "not a valid stack name", at);
    if (auto r = read(stack, it->value, at); !r) return r;
  }
  return {};
}

Expected<std::optional<std::string>> ReadStacksFile(const std::filesystem::path& file, std::size_t limit) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    if (ec) return Fail(ErrorCode::kIo, "cannot be read: " + ec.message(), file.string());
    return std::optional<std::string>();
  }
  auto text = ReadFile(file, limit);
  if (!text) return std::unexpected(text.error().WithContext(file.string()));
  return std::optional<std::string>(std::move(*text));
}

Expected<FileLock> LockStacksFile(const std::filesystem::path& file) {
  return FileLock::Acquire(file.string() + ".lock");
}

}  // namespace podcd::state
