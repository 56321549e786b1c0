// Small RapidJSON helpers shared by the state files, the hand-over files, the HTTP answers and
// the Podman client: a missing key, or a value of another type, reads as "" / 0 / false; a
// string written is valid UTF-8 whatever its bytes (json::ValidUtf8).
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.hpp"
#include "util/json_text.hpp"
#include "util/strings.hpp"

namespace podcd::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// RapidJSON's writer copies ill-formed UTF-8 into its output (invalid JSON): repair it first.
inline void String(Writer& w, std::string_view value) {
  if (IsValidUtf8(value)) {
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
    return;
  }
  const std::string valid = ValidUtf8(value);
  w.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

inline void Str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  String(w, value);
}

// A string escaped as json::AppendEscaped does (the API answers' and log lines' form, which
// differs from RapidJSON's for control characters: \u0008 and lowercase hex). It also serves as
// an object's key, where Key() would escape RapidJSON's way.
inline void Text(Writer& w, std::string_view value) {
  const std::string quoted = Quoted(value);
  w.RawValue(quoted.data(), quoted.size(), rapidjson::kStringType);
}

inline void Int(Writer& w, std::string_view key, std::int64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Int64(value);
}

inline std::string GetStr(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return {};
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// Integers, and the unsigned and floating-point numbers Podman sometimes sends instead.
inline std::int64_t GetInt(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return 0;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd()) return 0;
  if (it->value.IsInt64()) return it->value.GetInt64();
  if (it->value.IsUint64()) return static_cast<std::int64_t>(it->value.GetUint64());
  if (it->value.IsDouble()) {
    // Out of range (1e300 in a record or an answer) the conversion is undefined: 0, as for junk.
    const double d = it->value.GetDouble();
    constexpr double kBound = 9223372036854775808.0;  // 2^63
    return d >= -kBound && d < kBound ? static_cast<std::int64_t>(d) : 0;
  }
  return 0;
}

inline bool GetBool(const rapidjson::Value& o, const char* key) {
  if (!o.IsObject()) return false;
  auto it = o.FindMember(key);
  return it != o.MemberEnd() && it->value.IsBool() && it->value.GetBool();
}

// Reads a file holding one JSON object; nullopt when the file does not exist.
inline Expected<std::optional<rapidjson::Document>> ReadObjectFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<rapidjson::Document>();
  auto text = ReadFile(path, 4u << 20);
  if (!text) return std::unexpected(text.error());
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text->data(), text->size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return Fail(ErrorCode::kInvalidArgument, "malformed JSON (not an object)", path.string());
  }
  return std::optional<rapidjson::Document>(std::move(doc));
}

}  // namespace podcd::json
