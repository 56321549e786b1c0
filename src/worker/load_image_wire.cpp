// The daemon's side of `podcd __load-image` (worker/load_image.hpp): its answer, decoded.
#include "util/json.hpp"
#include "worker/load_image.hpp"

namespace podcd::worker {
namespace {

void Array(json::Writer& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const auto& v : values) json::Text(w, v);
  w.EndArray();
}

std::vector<std::string> Strings(const rapidjson::Value& o, const char* key) {
  std::vector<std::string> out;
  auto it = o.FindMember(key);
  if (it == o.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

}  // namespace

std::string EncodeLoadAnswer(const LoadAnswer& a) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Int(w, "status", a.status);
  json::Str(w, "error", a.error);
  Array(w, "images", a.images);
  Array(w, "ids", a.ids);
  Array(w, "added", a.added);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

Expected<LoadAnswer> DecodeLoadAnswer(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject())
    return Fail(ErrorCode::kInternal, "unreadable answer of podcd __load-image");
  LoadAnswer a;
  a.status = static_cast<int>(json::GetInt(doc, "status"));
  a.error = json::GetStr(doc, "error");
  a.images = Strings(doc, "images");
  a.ids = Strings(doc, "ids");
  a.added = Strings(doc, "added");
  if (a.status < 200 || a.status > 599) return Fail(ErrorCode::kInternal, "podcd __load-image: bad status");
  return a;
}

}  // namespace podcd::worker
