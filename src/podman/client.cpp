#include "podman/client.hpp"

#include "util/metrics.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "config/config.hpp"
#include "podman/auth.hpp"
#include "util/json.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"
#include "util/tar.hpp"

namespace podcd::podman {
namespace {

constexpr std::string_view kBase = "/v4.0.0/libpod";

using Json = rapidjson::Value;

std::string Path(std::string_view rest) { return std::string(kBase) + std::string(rest); }

// A path segment from a user-supplied name or id.
std::string Seg(std::string_view s) { return curl::UrlEncode(s); }

curl::CurlOptions SocketOptions(const ClientOptions& o) {
  curl::CurlOptions c;
  c.socket_path = o.socket_path;
  c.connect_timeout = o.connect_timeout;
  return c;
}

Expected<rapidjson::Document> ParseJson(std::string_view body, std::string_view call) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return Fail(ErrorCode::kInternal, "Podman answered with invalid JSON", std::string(call));
  }
  return doc;
}

using json::GetBool;
using json::GetInt;

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

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteMap(Writer& w, const char* key, const std::map<std::string, std::string>& m) {
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.String(k);
    w.String(v);
  }
  w.EndObject();
}

// filters={"label":["a=b",...],"type":[...]}, URL-encoded.
std::string LabelFilterQuery(const std::vector<std::string>& label_filters, std::string_view type = {}) {
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

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
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

Error PullError(std::string_view text, std::string_view call) {
  ErrorCode code = CodeFor(500, text);
  if (code == ErrorCode::kInternal) code = ErrorCode::kUnavailable;
  return Error{code, std::string(text), std::string(call)};
}

VolumeInfo ParseVolume(const Json& v) {
  VolumeInfo info;
  info.name = json::GetStr(v, "Name");
  info.driver = json::GetStr(v, "Driver");
  info.mountpoint = json::GetStr(v, "Mountpoint");
  info.labels = GetStringMap(v, "Labels");
  info.options = GetStringMap(v, "Options");
  return info;
}

NetworkInfo ParseNetwork(const Json& v) {
  NetworkInfo info;
  info.name = json::GetStr(v, "name");
  info.id = json::GetStr(v, "id");
  info.driver = json::GetStr(v, "driver");
  info.interface = json::GetStr(v, "network_interface");
  info.labels = GetStringMap(v, "labels");
  info.options = GetStringMap(v, "options");
  info.internal = GetBool(v, "internal");
  info.dns_enabled = GetBool(v, "dns_enabled");
  auto subnets = v.FindMember("subnets");
  if (subnets != v.MemberEnd() && subnets->value.IsArray()) {
    for (const auto& s : subnets->value.GetArray()) info.subnets.push_back(json::GetStr(s, "subnet"));
  }
  return info;
}

}  // namespace

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

LogOutput DemuxLogs(std::string_view body) {
  LogOutput out;
  // First check the whole body is a frame sequence; only then split it.
  std::size_t pos = 0;
  bool framed = !body.empty();
  while (framed && pos < body.size()) {
    if (body.size() - pos < 8) {
      framed = false;
      break;
    }
    const auto stream = static_cast<unsigned char>(body[pos]);
    if (stream > 2 || body[pos + 1] != 0 || body[pos + 2] != 0 || body[pos + 3] != 0) {
      framed = false;
      break;
    }
    const std::size_t size = (std::size_t{static_cast<unsigned char>(body[pos + 4])} << 24) |
                             (std::size_t{static_cast<unsigned char>(body[pos + 5])} << 16) |
                             (std::size_t{static_cast<unsigned char>(body[pos + 6])} << 8) |
                             std::size_t{static_cast<unsigned char>(body[pos + 7])};
    if (size > body.size() - pos - 8) {
      framed = false;
      break;
    }
    pos += 8 + size;
  }
  if (!framed) {
    out.out = std::string(body);
    out.combined = out.out;
    return out;
  }
  pos = 0;
  while (pos < body.size()) {
    const auto stream = static_cast<unsigned char>(body[pos]);
    const std::size_t size = (std::size_t{static_cast<unsigned char>(body[pos + 4])} << 24) |
                             (std::size_t{static_cast<unsigned char>(body[pos + 5])} << 16) |
                             (std::size_t{static_cast<unsigned char>(body[pos + 6])} << 8) |
                             std::size_t{static_cast<unsigned char>(body[pos + 7])};
    const std::string_view payload = body.substr(pos + 8, size);
    (stream == 2 ? out.err : out.out).append(payload);
    out.combined.append(payload);
    pos += 8 + size;
  }
  return out;
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

// ---- images

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

Expected<bool> Client::ImageExists(std::string_view name) { return Exists("image", name); }

Expected<ImageInfo> Client::InspectImage(std::string_view name) {
  const std::string call = "podman image inspect " + std::string(name);
  auto doc = CallJson("GET", Path("/images/" + Seg(name) + "/json"), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  ImageInfo info;
  info.id = json::GetStr(*doc, "Id");
  info.digest = json::GetStr(*doc, "Digest");
  info.repo_tags = GetStringArray(*doc, "RepoTags");
  info.labels = GetStringMap(*doc, "Labels");
  if (info.labels.empty()) {
    if (const Json* c = GetObject(*doc, "Config")) info.labels = GetStringMap(*c, "Labels");
  }
  return info;
}

Expected<std::optional<Client::AuthFile>> Client::ReadAuthFile(const std::string& call) const {
  AuthFile file{options_.auth_file, {}};
  if (file.path.empty()) {
    if (const char* env = std::getenv("REGISTRY_AUTH_FILE"); env != nullptr) file.path = env;
  }
  if (file.path.empty()) return std::optional<AuthFile>{};
  std::error_code ec;
  if (!std::filesystem::exists(file.path, ec)) {
    return Fail(ErrorCode::kNotFound, "registry auth file " + file.path + " does not exist", call);
  }
  auto text = ReadFile(file.path, 1u << 20);
  if (!text) return std::unexpected(text.error().WithContext(call));
  file.text = std::move(*text);
  return std::optional<AuthFile>(std::move(file));
}

Expected<std::optional<std::string>> Client::AuthHeaderFor(std::string_view reference) {
  const std::string call = "podman pull " + std::string(reference);
  auto file = ReadAuthFile(call);
  if (!file) return std::unexpected(file.error());
  if (!*file) return std::optional<std::string>{};
  auto creds = FindCredentials((*file)->text, reference);
  if (!creds) {
    Error e = creds.error();
    e.context = (*file)->path;
    return std::unexpected(e.WithContext(call));
  }
  if (!creds->has_value()) return std::optional<std::string>{};
  log::AddSecret((*creds)->password);
  log::AddSecret((*creds)->identity_token);
  return std::optional<std::string>("X-Registry-Auth: " + RegistryAuthHeader(**creds));
}

Expected<std::string> Client::Pull(std::string_view reference, PullPolicy policy) {
  const std::string call = "podman pull " + std::string(reference);
  auto auth = AuthHeaderFor(reference);
  if (!auth) return std::unexpected(auth.error());
  std::vector<std::string> headers;
  if (auth->has_value()) headers.push_back(std::move(**auth));
  const std::string path = Path("/images/pull?reference=" + curl::UrlEncode(reference) +
                                "&policy=" + std::string(ToString(policy)));
  auto r = Call("POST", path, {}, call, options_.long_timeout, headers);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  // NDJSON: {"stream":...} progress lines, {"error":...} on failure, {"id":...} at the end.
  std::string id;
  for (std::string_view line : SplitLines(r->body)) {
    line = Trim(line);
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Fail(ErrorCode::kInternal, "unreadable line in Podman's pull stream", call);
    }
    if (std::string err = json::GetStr(doc, "error"); !err.empty()) {
      return std::unexpected(PullError(err, call));
    }
    if (std::string got = json::GetStr(doc, "id"); !got.empty()) id = std::move(got);
  }
  if (id.empty()) return Fail(ErrorCode::kInternal, "Podman's pull stream ended without an image id", call);
  return id;
}

Expected<void> Client::Build(const BuildRequest& request) {
  const std::string call =
      "podman build " + (request.tags.empty() ? request.context_dir : request.tags.front());
  // What the context's .containerignore or .dockerignore leaves out stays here, as with
  // `podman build`; the Containerfile and the ignore file always go (the builder reads them).
  auto ignore = ContextIgnore::Load(request.context_dir);
  if (!ignore) return std::unexpected(ignore.error().WithContext(call));
  std::vector<std::string> keep = {request.dockerfile.empty() ? "Containerfile" : request.dockerfile};
  if (!ignore->File().empty()) keep.push_back(ignore->File());
  auto tar = TarDirectory(request.context_dir, {.skip_top = {".git"},
                                                .max_bytes = std::size_t{512} << 20,
                                                .ignore = &*ignore,
                                                .keep = std::move(keep)});
  if (!tar) return std::unexpected(tar.error().WithContext(call));
  auto json_map = [](const std::map<std::string, std::string>& m) {
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    w.StartObject();
    for (const auto& [k, v] : m) json::Str(w, k, v);
    w.EndObject();
    return std::string(buffer.GetString(), buffer.GetSize());
  };
  std::string query =
      "/build?dockerfile=" + curl::UrlEncode(request.dockerfile) + "&layers=true&rm=true&forcerm=true";
  for (const auto& t : request.tags) query += "&t=" + curl::UrlEncode(t);
  if (!request.args.empty()) query += "&buildargs=" + curl::UrlEncode(json_map(request.args));
  if (!request.labels.empty()) query += "&labels=" + curl::UrlEncode(json_map(request.labels));
  if (!request.target.empty()) query += "&target=" + curl::UrlEncode(request.target);
  // The base images may come from registries that want credentials: all of the auth file's,
  // as `podman build --authfile` would use them.
  std::vector<std::string> headers = {"Content-Type: application/x-tar"};
  auto auth = ReadAuthFile(call);
  if (!auth) return std::unexpected(auth.error());
  if (*auth) {
    auto entries = ReadAuthEntries((*auth)->text);
    if (!entries) {
      Error e = entries.error();
      e.context = (*auth)->path;
      return std::unexpected(e.WithContext(call));
    }
    for (const auto& e : *entries) {
      log::AddSecret(e.credentials.password);
      log::AddSecret(e.credentials.identity_token);
    }
    if (auto header = RegistryConfigHeader(*entries)) headers.push_back("X-Registry-Config: " + *header);
  }
  auto r = Call("POST", Path(query), *tar, call, options_.long_timeout, headers);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  std::vector<std::string> output;  // the build's own lines, for the error
  for (std::string_view line : SplitLines(r->body)) {
    line = Trim(line);
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) continue;
    if (std::string err = json::GetStr(doc, "error"); !err.empty()) {
      std::string tail;
      const std::size_t from = output.size() > 5 ? output.size() - 5 : 0;
      for (std::size_t i = from; i < output.size(); ++i) tail += (tail.empty() ? "" : " | ") + output[i];
      return Fail(ErrorCode::kInvalidArgument,
                  std::string(Trim(err)) + (tail.empty() ? "" : " (after: " + tail + ")"), call);
    }
    const std::string stream = json::GetStr(doc, "stream");  // outlives the views into it
    for (std::string_view l : SplitLines(stream)) {
      if (!Trim(l).empty()) output.emplace_back(Trim(l));
    }
  }
  return {};
}

// ---- networks

Expected<NetworkInfo> Client::CreateNetwork(const NetworkCreate& request) {
  const std::string call = "podman network create " + request.name;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("name");
  w.String(request.name);
  w.Key("driver");
  w.String(request.driver.empty() ? std::string("bridge") : request.driver);
  WriteMap(w, "labels", request.labels);
  WriteMap(w, "options", request.options);
  w.Key("internal");
  w.Bool(request.internal);
  w.Key("dns_enabled");
  w.Bool(request.dns_enabled);
  w.EndObject();
  auto doc =
      CallJson("POST", Path("/networks/create"), std::string_view(buffer.GetString(), buffer.GetSize()), call,
               options_.timeout, {200, 201});
  if (!doc) return std::unexpected(doc.error());
  return ParseNetwork(*doc);
}

Expected<bool> Client::NetworkExists(std::string_view name) { return Exists("network", name); }

Expected<NetworkInfo> Client::InspectNetwork(std::string_view name) {
  const std::string call = "podman network inspect " + std::string(name);
  auto doc = CallJson("GET", Path("/networks/" + Seg(name) + "/json"), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  return ParseNetwork(*doc);
}

Expected<void> Client::RemoveNetwork(std::string_view name, bool force) {
  const std::string call = "podman network rm " + std::string(name);
  auto r = Call("DELETE", Path("/networks/" + Seg(name) + (force ? "?force=true" : "")), {}, call,
                options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200 && r->status != 204) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  // 200 carries [{"Name":...,"Err":...}]: a per-network error is still a failure.
  auto doc = ParseJson(r->body, call);
  if (doc && doc->IsArray()) {
    for (const auto& item : doc->GetArray()) {
      if (std::string err = json::GetStr(item, "Err"); !err.empty()) {
        return std::unexpected(Error{CodeFor(500, err), err, call});
      }
    }
  }
  return {};
}

Expected<void> Client::DisconnectNetwork(std::string_view network, std::string_view container) {
  const std::string call = "podman network disconnect " + std::string(network) + " " + std::string(container);
  std::string body = "{\"Container\":\"";
  json::AppendEscaped(body, container);
  body += "\"}";
  auto r = Call("POST", Path("/networks/" + Seg(network) + "/disconnect"), body, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200 && r->status != 204) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

// ---- volumes

Expected<VolumeInfo> Client::CreateVolume(const VolumeCreate& request) {
  const std::string call = "podman volume create " + request.name;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("Name");
  w.String(request.name);
  if (!request.driver.empty()) {
    w.Key("Driver");
    w.String(request.driver);
  }
  WriteMap(w, "Labels", request.labels);
  WriteMap(w, "Options", request.options);
  w.EndObject();
  auto doc = CallJson("POST", Path("/volumes/create"), std::string_view(buffer.GetString(), buffer.GetSize()),
                      call, options_.timeout, {200, 201});
  if (!doc) return std::unexpected(doc.error());
  return ParseVolume(*doc);
}

Expected<bool> Client::VolumeExists(std::string_view name) { return Exists("volume", name); }

Expected<VolumeInfo> Client::InspectVolume(std::string_view name) {
  const std::string call = "podman volume inspect " + std::string(name);
  auto doc = CallJson("GET", Path("/volumes/" + Seg(name) + "/json"), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  return ParseVolume(*doc);
}

Expected<std::vector<VolumeInfo>> Client::ListVolumes(const std::vector<std::string>& label_filters) {
  const std::string_view call = "podman volume ls";
  std::string path = Path("/volumes/json");
  if (!label_filters.empty()) path += "?" + LabelFilterQuery(label_filters);
  auto doc = CallJson("GET", path, {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  std::vector<VolumeInfo> out;
  if (doc->IsArray()) {
    for (const auto& v : doc->GetArray()) out.push_back(ParseVolume(v));
  }
  return out;
}

Expected<std::vector<NetworkInfo>> Client::ListNetworks(const std::vector<std::string>& label_filters) {
  const std::string_view call = "podman network ls";
  std::string path = Path("/networks/json");
  if (!label_filters.empty()) path += "?" + LabelFilterQuery(label_filters);
  auto doc = CallJson("GET", path, {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  std::vector<NetworkInfo> out;
  if (doc->IsArray()) {
    for (const auto& v : doc->GetArray()) out.push_back(ParseNetwork(v));
  }
  return out;
}

Expected<void> Client::RemoveVolume(std::string_view name, bool force) {
  const std::string call = "podman volume rm " + std::string(name);
  auto r = Call("DELETE", Path("/volumes/" + Seg(name) + (force ? "?force=true" : "")), {}, call,
                options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 204 && r->status != 200) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

// ---- containers

Expected<std::string> Client::CreateContainer(const ContainerSpec& spec) {
  return CreateContainerFromJson(ToSpecGeneratorJson(spec), spec.name);
}

Expected<std::string> Client::CreateContainerFromJson(std::string_view spec_generator_json,
                                                      std::string_view name_for_errors) {
  const std::string call = "podman container create " + std::string(name_for_errors);
  auto doc =
      CallJson("POST", Path("/containers/create"), spec_generator_json, call, options_.timeout, {200, 201});
  if (!doc) return std::unexpected(doc.error());
  std::string id = json::GetStr(*doc, "Id");
  if (id.empty()) return Fail(ErrorCode::kInternal, "Podman's answer has no container id", call);
  for (const auto& warning : GetStringArray(*doc, "Warnings")) {
    log::Warn("podman warned on container create", {{"container", name_for_errors}, {"warning", warning}});
  }
  return id;
}

Expected<void> Client::StartContainer(std::string_view id) {
  const std::string call = "podman container start " + std::string(id);
  auto r = Call("POST", Path("/containers/" + Seg(id) + "/start"), {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  // 304: already running.
  if (r->status != 204 && r->status != 304) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

Expected<void> Client::StopContainer(std::string_view id, std::chrono::seconds grace) {
  const std::string call = "podman container stop " + std::string(id);
  // The call lasts up to the grace period: the HTTP limit must outlast it.
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(grace) + options_.timeout;
  auto r = Call("POST", Path("/containers/" + Seg(id) + "/stop?timeout=" + std::to_string(grace.count())), {},
                call, timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 204 && r->status != 304) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

Expected<void> Client::KillContainer(std::string_view id, std::string_view signal) {
  const std::string call = "podman container kill " + std::string(id);
  auto r = Call("POST", Path("/containers/" + Seg(id) + "/kill?signal=" + curl::UrlEncode(signal)), {}, call,
                options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 204) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  return {};
}

Expected<void> Client::RemoveContainer(std::string_view id, bool force, std::chrono::seconds stop_grace) {
  const std::string call = "podman container rm " + std::string(id);
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(stop_grace) + options_.timeout;
  auto r = Call("DELETE",
                Path("/containers/" + Seg(id) + "?v=false&force=" + (force ? "true" : "false") +
                     "&timeout=" + std::to_string(stop_grace.count())),
                {}, call, timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200 && r->status != 204) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  auto doc = ParseJson(r->body, call);
  if (doc && doc->IsArray()) {
    for (const auto& item : doc->GetArray()) {
      if (std::string err = json::GetStr(item, "Err"); !err.empty()) {
        return std::unexpected(Error{CodeFor(500, err), err, call});
      }
    }
  }
  return {};
}

Expected<void> Client::RenameContainer(std::string_view id, std::string_view new_name) {
  const std::string call = "podman container rename " + std::string(id) + " " + std::string(new_name);
  auto r = Call("POST", Path("/containers/" + Seg(id) + "/rename?name=" + curl::UrlEncode(new_name)), {},
                call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 204 && r->status != 200) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

Expected<std::string> Client::InspectContainerJson(std::string_view id) {
  const std::string call = "podman container inspect " + std::string(id);
  auto r = Call("GET", Path("/containers/" + Seg(id) + "/json"), {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  return std::move(r->body);
}

Expected<rapidjson::Document> Client::InspectContainerDoc(std::string_view id) {
  auto body = InspectContainerJson(id);
  if (!body) return std::unexpected(body.error());
  return ParseJson(*body, "podman container inspect " + std::string(id));
}

Expected<ContainerSpec> Client::InspectRunConfig(std::string_view id) {
  auto doc = InspectContainerDoc(id);
  if (!doc) return std::unexpected(doc.error());
  ContainerSpec spec;
  spec.name = json::GetStr(*doc, "Name");
  spec.image = json::GetStr(*doc, "Image");
  if (const Json* c = GetObject(*doc, "Config")) {
    for (const auto& kv : GetStringArray(*c, "Env")) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos && eq > 0) spec.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    spec.user = json::GetStr(*c, "User");
  }
  if (const Json* h = GetObject(*doc, "HostConfig")) {
    spec.privileged = GetBool(*h, "Privileged");
    spec.cap_add = GetStringArray(*h, "CapAdd");
  }
  if (auto it = doc->FindMember("Mounts"); it != doc->MemberEnd() && it->value.IsArray()) {
    for (const auto& m : it->value.GetArray()) {
      if (!m.IsObject()) continue;
      const std::string type = json::GetStr(m, "Type");
      std::vector<std::string> options;
      if (m.HasMember("RW") && m["RW"].IsBool() && !m["RW"].GetBool()) options.emplace_back("ro");
      if (type == "bind") {
        spec.binds.push_back({json::GetStr(m, "Source"), json::GetStr(m, "Destination"), std::move(options)});
      } else if (type == "volume") {
        spec.volumes.push_back({json::GetStr(m, "Name"), json::GetStr(m, "Destination"), std::move(options)});
      }
    }
  }
  return spec;
}

Expected<ContainerInfo> Client::InspectContainer(std::string_view id) {
  auto doc = InspectContainerDoc(id);
  if (!doc) return std::unexpected(doc.error());
  ContainerInfo info;
  info.id = json::GetStr(*doc, "Id");
  info.name = json::GetStr(*doc, "Name");
  info.image_id = json::GetStr(*doc, "Image");
  info.image_name = json::GetStr(*doc, "ImageName");
  info.restart_count = GetInt(*doc, "RestartCount");
  if (const Json* s = GetObject(*doc, "State")) {
    info.state.status = json::GetStr(*s, "Status");
    info.state.running = GetBool(*s, "Running");
    info.state.oom_killed = GetBool(*s, "OOMKilled");
    info.state.exit_code = GetInt(*s, "ExitCode");
    info.state.pid = GetInt(*s, "Pid");
    info.state.error = json::GetStr(*s, "Error");
    info.state.started_at = json::GetStr(*s, "StartedAt");
    info.state.finished_at = json::GetStr(*s, "FinishedAt");
    // 4.3 writes "Health"; older 4.x wrote "Healthcheck".
    const Json* h = GetObject(*s, "Health");
    if (h == nullptr) h = GetObject(*s, "Healthcheck");
    if (h != nullptr) {
      info.state.health_status = json::GetStr(*h, "Status");
      info.state.failing_streak = GetInt(*h, "FailingStreak");
    }
  }
  if (const Json* c = GetObject(*doc, "Config")) info.labels = GetStringMap(*c, "Labels");
  return info;
}

Expected<std::vector<ContainerSummary>> Client::ListContainers(
    const std::vector<std::string>& label_filters) {
  const std::string_view call = "podman container ls";
  std::string path = Path("/containers/json?all=true");
  if (!label_filters.empty()) path += "&" + LabelFilterQuery(label_filters);
  auto doc = CallJson("GET", path, {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  std::vector<ContainerSummary> out;
  if (!doc->IsArray()) return out;
  for (const auto& c : doc->GetArray()) {
    ContainerSummary s;
    s.id = json::GetStr(c, "Id");
    auto names = GetStringArray(c, "Names");
    if (!names.empty()) s.name = names.front();
    s.image = json::GetStr(c, "Image");
    s.image_id = json::GetStr(c, "ImageID");
    s.state = json::GetStr(c, "State");
    s.exit_code = GetInt(c, "ExitCode");
    s.started_at = GetInt(c, "StartedAt");
    s.labels = GetStringMap(c, "Labels");
    out.push_back(std::move(s));
  }
  return out;
}

Expected<HealthResult> Client::RunHealthcheck(std::string_view id) {
  const std::string call = "podman healthcheck run " + std::string(id);
  // The check may take up to its own timeout (30 s by default).
  auto doc = CallJson("GET", Path("/containers/" + Seg(id) + "/healthcheck"), {}, call, options_.long_timeout,
                      {200});
  if (!doc) return std::unexpected(doc.error());
  HealthResult h;
  h.status = json::GetStr(*doc, "Status");
  // The run's own answer has only the status (its Log is null in 4.3): the streak and the
  // check's exit code and output are in the container's health log.
  auto inspect = InspectContainerDoc(id);
  if (!inspect) return std::unexpected(inspect.error());
  if (const Json* state = GetObject(*inspect, "State")) {
    const Json* health = GetObject(*state, "Health");
    if (health == nullptr) health = GetObject(*state, "Healthcheck");
    if (health != nullptr) {
      h.failing_streak = GetInt(*health, "FailingStreak");
      auto log = health->FindMember("Log");
      if (log != health->MemberEnd() && log->value.IsArray() && !log->value.Empty()) {
        const auto& last = log->value[log->value.Size() - 1];
        h.exit_code = GetInt(last, "ExitCode");
        h.output = json::GetStr(last, "Output");
      }
    }
  }
  return h;
}

Expected<std::int64_t> Client::WaitContainer(std::string_view id, std::string_view condition) {
  const std::string call = "podman container wait " + std::string(id);
  auto r = Call("POST", Path("/containers/" + Seg(id) + "/wait?condition=" + curl::UrlEncode(condition)), {},
                call, options_.long_timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  auto code = ParseInt(Trim(r->body));
  if (!code) return Fail(ErrorCode::kInternal, "unexpected wait answer: " + r->body, call);
  return *code;
}

Expected<LogOutput> Client::Logs(std::string_view id, int tail) {
  const std::string call = "podman container logs " + std::string(id);
  std::string path = Path("/containers/" + Seg(id) + "/logs?stdout=true&stderr=true");
  if (tail > 0) path += "&tail=" + std::to_string(tail);
  auto r = Call("GET", path, {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  return DemuxLogs(r->body);
}

Expected<std::vector<Event>> Client::Events(std::int64_t since, const std::vector<std::string>& label_filters,
                                            std::string_view type) {
  const std::string_view call = "podman events";
  std::string path = Path("/events?stream=false&since=" + std::to_string(since));
  if (std::string filters = LabelFilterQuery(label_filters, type); !filters.empty()) {
    path += "&" + filters;
  }
  auto r = Call("GET", path, {}, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  std::vector<Event> out;
  for (std::string_view line : SplitLines(r->body)) {
    line = Trim(line);
    if (line.empty()) continue;
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return Fail(ErrorCode::kInternal, "unreadable line in Podman's event stream", std::string(call));
    }
    Event e;
    e.type = json::GetStr(doc, "Type");
    e.action = json::GetStr(doc, "Action");
    e.time_nano = GetInt(doc, "timeNano");
    if (const Json* actor = GetObject(doc, "Actor")) {
      e.id = json::GetStr(*actor, "ID");
      e.attributes = GetStringMap(*actor, "Attributes");
      if (auto it = e.attributes.find("name"); it != e.attributes.end()) e.name = it->second;
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace podcd::podman
