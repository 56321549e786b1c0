// podman::Client's transport (Call, CallJson, the error mapping) and the helpers its calls
// share; the calls themselves are in client_<topic>.cpp.
#include "podman/client.hpp"

#include "util/metrics.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>

#include "config/config.hpp"
#include "podman/client_internal.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::podman {
namespace {

constexpr std::string_view kBase = "/v4.0.0/libpod";

curl::CurlOptions SocketOptions(const ClientOptions& o) {
  curl::CurlOptions c;
  c.socket_path = o.socket_path;
  c.connect_timeout = o.connect_timeout;
  return c;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

std::string Path(std::string_view rest) { return std::string(kBase) + std::string(rest); }

std::string Seg(std::string_view s) { return curl::UrlEncode(s); }

Expected<rapidjson::Document> ParseJson(std::string_view body, std::string_view call) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return Fail(ErrorCode::kInternal, "Podman answered with invalid JSON", std::string(call));
  }
  return doc;
}

const Json* GetObject(const Json& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsObject()) return nullptr;
  return &it->value;
}

std::map<std::string, std::string> GetStringMap(const Json& obj, const char* key) {
  std::map<std::string, std::string> out;
  const Json* m = GetObject(obj, key);
  if (m == nullptr) return out;
  for (auto it = m->MemberBegin(); it != m->MemberEnd(); ++it) {
    if (it->value.IsString()) out[it->name.GetString()] = it->value.GetString();
  }
  return out;
}

std::vector<std::string> GetStringArray(const Json& obj, const char* key) {
  std::vector<std::string> out;
  if (!obj.IsObject()) return out;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsArray()) return out;
  for (const auto& v : it->value.GetArray()) {
    if (v.IsString()) out.emplace_back(v.GetString(), v.GetStringLength());
  }
  return out;
}

void WriteMap(Writer& w, const char* key, const std::map<std::string, std::string>& m) {
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.String(k);
    w.String(v);
  }
  w.EndObject();
}

std::string LabelFilterQuery(const std::vector<std::string>& label_filters, std::string_view type) {
  if (label_filters.empty() && type.empty()) return {};
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  if (!label_filters.empty()) {
    w.Key("label");
    w.StartArray();
    for (const auto& f : label_filters) w.String(f);
    w.EndArray();
  }
  if (!type.empty()) {
    w.Key("type");
    w.StartArray();
    w.String(type.data(), static_cast<rapidjson::SizeType>(type.size()));
    w.EndArray();
  }
  w.EndObject();
  return "filters=" + curl::UrlEncode(std::string_view(buffer.GetString(), buffer.GetSize()));
}

ErrorCode CodeFor(long status, std::string_view text) {
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 409) return ErrorCode::kAlreadyExists;
  if (Contains(text, "already exists") || Contains(text, "already in use") ||
      Contains(text, "already used")) {
    return ErrorCode::kAlreadyExists;
  }
  if (Contains(text, "no such") || Contains(text, "not found") || Contains(text, "not known") ||
      Contains(text, "manifest unknown")) {
    return ErrorCode::kNotFound;
  }
  if (status == 401 || Contains(text, "unauthorized") || Contains(text, "authentication required")) {
    return ErrorCode::kUnauthenticated;
  }
  if (status == 403) return ErrorCode::kPermissionDenied;
  if (status == 400) return ErrorCode::kInvalidArgument;
  return ErrorCode::kInternal;
}

Expected<void> ForEachJsonLine(std::string_view body, std::string_view stream, std::string_view call,
                               const std::function<Expected<void>(const rapidjson::Document&)>& each) {
  for (std::string_view line : SplitLines(body)) {
    line = Trim(line);
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Fail(ErrorCode::kInternal, "unreadable line in Podman's " + std::string(stream) + " stream",
                  std::string(call));
    }
    if (auto r = each(doc); !r) return r;
  }
  return {};
}

Expected<void> RemovalReport(const curl::HttpResponse& r, const std::string& call) {
  if (r.status != 200 && r.status != 204) return std::unexpected(ErrorFromResponse(r.status, r.body, call));
  auto doc = ParseJson(r.body, call);
  if (doc && doc->IsArray()) {
    for (const auto& item : doc->GetArray()) {
      if (std::string err = json::GetStr(item, "Err"); !err.empty()) {
        return std::unexpected(Error{CodeFor(500, err), err, call});
      }
    }
  }
  return {};
}

std::string_view ToString(PullPolicy policy) {
  switch (policy) {
    case PullPolicy::kMissing: return "missing";
    case PullPolicy::kNewer: return "newer";
    case PullPolicy::kAlways: return "always";
  }
  return "missing";
}

ClientOptions OptionsFromConfig(const config::Config& config) {
  ClientOptions o;
  o.socket_path = config.podman.socket;
  o.auth_file = config.podman.auth_file;
  if (config.podman.timeout.count() > 0) {
    o.long_timeout = config.podman.timeout;
    o.timeout = std::min(o.timeout, config.podman.timeout);
  }
  return o;
}

Error ErrorFromResponse(long status, std::string_view body, std::string_view call) {
  std::string message;
  std::string cause;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    message = json::GetStr(doc, "message");
    cause = json::GetStr(doc, "cause");
  }
  if (message.empty()) message = cause;
  if (!cause.empty() && !Contains(message, cause)) message += ": " + cause;
  if (message.empty()) {
    std::string_view text = Trim(body);
    if (text.size() > 300) text = text.substr(0, 300);
    message = text.empty() ? "Podman answered HTTP " + std::to_string(status)
                           : "Podman answered HTTP " + std::to_string(status) + ": " + std::string(text);
  }
  return Error{CodeFor(status, message), std::move(message), std::string(call)};
}

Client::Client(ClientOptions options) : options_(std::move(options)), curl_(SocketOptions(options_)) {}

Expected<rapidjson::Document> Client::CallJson(std::string_view method, const std::string& path,
                                               std::string_view body, std::string_view call,
                                               std::chrono::milliseconds timeout,
                                               std::initializer_list<long> ok) {
  auto r = Call(method, path, body, call, timeout);
  if (!r) return std::unexpected(r.error());
  if (std::find(ok.begin(), ok.end(), r->status) == ok.end())
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  return ParseJson(r->body, call);
}

Expected<curl::HttpResponse> Client::Call(std::string_view method, const std::string& path,
                                          std::string_view body, std::string_view call,
                                          std::chrono::milliseconds timeout,
                                          const std::vector<std::string>& headers) {
  const auto start = std::chrono::steady_clock::now();
  auto response = curl_.Request(method, path, body, headers, timeout);
  // "podman container start web_1" -> "container start", "podman pull IMAGE" -> "pull": the
  // call's kind, never its target (one label value per image would grow without bound).
  std::string kind;
  {
    std::string_view rest = call.starts_with("podman ") ? call.substr(7) : call;
    auto first = rest.find(' ');
    const std::string_view verb = rest.substr(0, first);
    const bool one_word =
        verb == "pull" || verb == "build" || verb == "ping" || verb == "version" || verb == "events";
    auto second = one_word || first == std::string_view::npos ? first : rest.find(' ', first + 1);
    kind = std::string(rest.substr(0, second));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics::Observe("podcd_podman_call_seconds", {{"call", kind}}, seconds);
  if (log::Enabled(log::Level::kDebug)) {
    log::Debug("podman call", {{"method", std::string(method)},
                               {"path", std::string(path)},
                               {"status", response ? std::to_string(response->status) : "error"},
                               {"ms", std::to_string(static_cast<long>(seconds * 1000))}});
  }
  if (!response) {
    Error e = response.error();
    e.context = std::string(call);
    return std::unexpected(std::move(e));
  }
  return response;
}

Expected<void> Client::Ping() {
  const std::string_view call = "podman ping";
  auto r = Call("GET", Path("/_ping"), {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  return {};
}

Expected<VersionInfo> Client::Version() {
  const std::string_view call = "podman version";
  auto doc = CallJson("GET", Path("/version"), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  VersionInfo v;
  v.version = json::GetStr(*doc, "Version");
  auto comps = doc->FindMember("Components");
  if (comps != doc->MemberEnd() && comps->value.IsArray()) {
    for (const auto& c : comps->value.GetArray()) {
      if (json::GetStr(c, "Name") == "Podman Engine") {
        if (const Json* d = GetObject(c, "Details")) v.api_version = json::GetStr(*d, "APIVersion");
      }
    }
  }
  return v;
}

Expected<RuntimesInfo> Client::Runtimes() {
  const std::string_view call = "podman info";
  auto doc = CallJson("GET", "/v1.41/info", {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  RuntimesInfo info;
  info.default_runtime = json::GetStr(*doc, "DefaultRuntime");
  if (const Json* runtimes = GetObject(*doc, "Runtimes")) {
    info.listed = true;
    for (const auto& m : runtimes->GetObject())
      info.names.emplace_back(m.name.GetString(), m.name.GetStringLength());
  }
  std::sort(info.names.begin(), info.names.end());  // Go's map order is random
  if (!info.default_runtime.empty()) return info;
  auto libpod = CallJson("GET", Path("/info"), {}, call, options_.timeout, {200});
  if (!libpod) return std::unexpected(libpod.error());
  if (const Json* host = GetObject(*libpod, "host")) {
    if (const Json* oci = GetObject(*host, "ociRuntime")) info.default_runtime = json::GetStr(*oci, "name");
  }
  return info;
}

// GET /<kind>s/{name}/exists: 204 yes, 404 no, anything else is Podman's error.
Expected<bool> Client::Exists(std::string_view kind, std::string_view name) {
  const std::string call = "podman " + std::string(kind) + " exists " + std::string(name);
  auto r =
      Call("GET", Path("/" + std::string(kind) + "s/" + Seg(name) + "/exists"), {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status == 204) return true;
  if (r->status == 404) return false;
  return std::unexpected(ErrorFromResponse(r->status, r->body, call));
}

}  // namespace podcd::podman
