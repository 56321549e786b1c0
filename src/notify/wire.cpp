#include "notify/wire.hpp"

#include "util/json.hpp"

namespace podcd::notify {
namespace {

Expected<rapidjson::Document> Object(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) return Fail(ErrorCode::kInvalidArgument, "not a JSON object");
  return doc;
}

}  // namespace

std::string EncodeRequest(const SendRequest& r) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "id", static_cast<std::int64_t>(r.id));
  json::Str(w, "target", r.out.target);
  json::Str(w, "method", r.out.method);
  json::Str(w, "url", r.out.url);
  w.Key("headers");
  w.StartArray();
  for (const auto& [name, value] : r.out.headers) {
    w.StartArray();
    json::String(w, name);
    json::String(w, value);
    w.EndArray();
  }
  w.EndArray();
  json::Str(w, "body", r.out.body);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<SendRequest> DecodeRequest(std::string_view line) {
  auto doc = Object(line);
  if (!doc) return std::unexpected(doc.error());
  SendRequest r;
  r.id = static_cast<std::uint64_t>(json::GetInt(*doc, "id"));
  r.out.target = json::GetStr(*doc, "target");
  r.out.method = json::GetStr(*doc, "method");
  r.out.url = json::GetStr(*doc, "url");
  r.out.body = json::GetStr(*doc, "body");
  if (auto it = doc->FindMember("headers"); it != doc->MemberEnd() && it->value.IsArray()) {
    for (const auto& h : it->value.GetArray()) {
      if (!h.IsArray() || h.Size() != 2 || !h[0].IsString() || !h[1].IsString()) continue;
      r.out.headers.emplace_back(std::string(h[0].GetString(), h[0].GetStringLength()),
                                 std::string(h[1].GetString(), h[1].GetStringLength()));
    }
  }
  if (r.out.method.empty() || r.out.url.empty())
    return Fail(ErrorCode::kInvalidArgument, "a request without a method or URL");
  return r;
}

std::string EncodeResult(const SendResult& r) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Int(w, "id", static_cast<std::int64_t>(r.id));
  w.Key("sent");
  w.Bool(r.sent);
  json::Int(w, "status", r.status);
  json::Str(w, "error", r.error);
  json::Int(w, "tries", r.tries);
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<SendResult> DecodeResult(std::string_view line) {
  auto doc = Object(line);
  if (!doc) return std::unexpected(doc.error());
  SendResult r;
  r.id = static_cast<std::uint64_t>(json::GetInt(*doc, "id"));
  r.sent = json::GetBool(*doc, "sent");
  r.status = static_cast<long>(json::GetInt(*doc, "status"));
  r.error = json::GetStr(*doc, "error");
  r.tries = static_cast<int>(json::GetInt(*doc, "tries"));
  return r;
}

}  // namespace podcd::notify
