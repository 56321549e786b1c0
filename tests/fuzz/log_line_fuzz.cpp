// libFuzzer target: arbitrary bytes as a JSON log line's message, field key and field value
// (split at the first two NUL bytes). The line must parse (RapidJSON, validating the encoding),
// be valid UTF-8, and give back each string as json::ValidUtf8 repairs it (U+FFFD per maximal
// subpart): the writer lays the line out, the project's escaper writes its strings.
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "util/json_text.hpp"
#include "util/log.hpp"

namespace {

[[noreturn]] void Fail(const char* what, const std::string& line) {
  std::fprintf(stderr, "%s: %s\n", what, line.c_str());
  std::abort();
}

std::string_view Next(std::string_view& rest) {
  const auto nul = rest.find('\0');
  const std::string_view part = rest.substr(0, nul);
  rest = nul == std::string_view::npos ? std::string_view() : rest.substr(nul + 1);
  return part;
}

bool Holds(const rapidjson::Document& doc, std::string_view key, std::string_view raw_value) {
  const std::string k = podcd::json::ValidUtf8(key);
  const std::string v = podcd::json::ValidUtf8(raw_value);
  auto it = doc.FindMember(rapidjson::Value(rapidjson::StringRef(k.data(), k.size())));
  return it != doc.MemberEnd() && it->value.IsString() &&
         std::string_view(it->value.GetString(), it->value.GetStringLength()) == v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const std::string_view msg = Next(rest);
  const std::string key(Next(rest));
  const std::string value(rest);
  const auto line = podcd::log::FormatLine(podcd::log::Format::kJson, podcd::log::Level::kInfo,
                                           std::chrono::system_clock::time_point{}, msg, {{key, value}});
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) Fail(rapidjson::GetParseError_En(doc.GetParseError()), line);
  if (!podcd::json::IsValidUtf8(line)) Fail("not valid UTF-8", line);
  if (!Holds(doc, "msg", msg)) Fail("the message did not come back repaired", line);
  const bool reserved = key == "ts" || key == "level" || key == "msg";
  if (!reserved && !Holds(doc, key, value)) Fail("the field did not come back repaired", line);
  if (doc.MemberCount() != (reserved ? 3u : 4u)) Fail("wrong number of members", line);
  // The text form must not crash either (it is not JSON).
  (void)podcd::log::FormatLine(podcd::log::Format::kText, podcd::log::Level::kInfo,
                               std::chrono::system_clock::time_point{}, msg, {{key, value}});
  return 0;
}
