// podman::Client: images (inspect, list, remove, pull with the auth file's credentials, build).
#include "podman/client.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "podman/auth.hpp"
#include "podman/client_internal.hpp"
#include "util/json.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"
#include "util/tar.hpp"

namespace podcd::podman {
namespace {

Error PullError(std::string_view text, std::string_view call) {
  ErrorCode code = CodeFor(500, text);
  if (code == ErrorCode::kInternal) code = ErrorCode::kUnavailable;
  return Error{code, std::string(text), std::string(call)};
}

}  // namespace

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

Expected<std::vector<ImageSummary>> Client::ListImages() {
  const std::string call = "podman image list";
  auto doc = CallJson("GET", Path("/images/json?all=true"), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  std::vector<ImageSummary> out;
  if (!doc->IsArray()) return out;
  for (const auto& v : doc->GetArray()) {
    if (!v.IsObject()) continue;
    ImageSummary image;
    image.id = json::GetStr(v, "Id");
    image.parent_id = json::GetStr(v, "ParentId");
    image.repo_tags = GetStringArray(v, "RepoTags");
    image.size = GetInt(v, "Size");
    image.containers = GetInt(v, "Containers");
    if (!image.id.empty()) out.push_back(std::move(image));
  }
  return out;
}

Expected<std::map<std::string, std::int64_t>> Client::ImageUniqueSizes() {
  const std::string call = "podman system df";
  auto doc = CallJson("GET", Path("/system/df"), {}, call, options_.long_timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  std::map<std::string, std::int64_t> out;
  if (const auto images = doc->FindMember("Images"); images != doc->MemberEnd() && images->value.IsArray()) {
    // One row per tag: an image with two tags comes twice, alike.
    for (const auto& v : images->value.GetArray()) {
      if (v.IsObject()) out[json::GetStr(v, "ImageID")] = GetInt(v, "UniqueSize");
    }
  }
  return out;
}

Expected<std::vector<std::string>> Client::RemoveImage(std::string_view id) {
  const std::string call = "podman image rm " + std::string(id);
  auto doc = CallJson("DELETE", Path("/images/" + Seg(id)), {}, call, options_.timeout, {200});
  if (!doc) return std::unexpected(doc.error());
  if (auto errors = GetStringArray(*doc, "Errors"); !errors.empty())
    return Fail(ErrorCode::kInternal, errors.front(), call);
  return GetStringArray(*doc, "Deleted");
}

Expected<std::vector<std::string>> Client::LoadImage(const std::filesystem::path& file,
                                                     std::chrono::milliseconds timeout) {
  const std::string call = "podman load";
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return Fail(ErrorCode::kIo, "cannot read the archive: " + ec.message(), call);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> in(std::fopen(file.c_str(), "rb"), &std::fclose);
  if (!in) return Fail(ErrorCode::kIo, "cannot open the archive", call);
  curl::Curl::BodySource body{size, [f = in.get()](char* buffer, std::size_t max) -> long {
                                const std::size_t n = std::fread(buffer, 1, max, f);
                                return n == 0 && std::ferror(f) != 0 ? -1 : static_cast<long>(n);
                              }};
  const auto start = std::chrono::steady_clock::now();
  auto r = curl_.Stream("POST", Path("/images/load"), body, {"Content-Type: application/x-tar"}, timeout);
  metrics::Observe("podcd_podman_call_seconds", {{"call", "load"}},
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  if (!r) return std::unexpected(r.error().WithContext(call));
  if (r->status != 200) return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  rapidjson::Document doc;
  doc.Parse(r->body.data(), r->body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return Fail(ErrorCode::kInternal, "unreadable answer from Podman's image load", call);
  return GetStringArray(doc, "Names");
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
  auto read = ForEachJsonLine(r->body, "pull", call, [&](const rapidjson::Document& doc) -> Expected<void> {
    if (std::string err = json::GetStr(doc, "error"); !err.empty())
      return std::unexpected(PullError(err, call));
    if (std::string got = json::GetStr(doc, "id"); !got.empty()) id = std::move(got);
    return {};
  });
  if (!read) return std::unexpected(read.error());
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

}  // namespace podcd::podman
