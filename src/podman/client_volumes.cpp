// podman::Client: volumes.
#include "podman/client.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "podman/client_internal.hpp"
#include "util/json.hpp"

namespace podcd::podman {
namespace {

VolumeInfo ParseVolume(const Json& v) {
  VolumeInfo info;
  info.name = json::GetStr(v, "Name");
  info.driver = json::GetStr(v, "Driver");
  info.mountpoint = json::GetStr(v, "Mountpoint");
  info.labels = GetStringMap(v, "Labels");
  info.options = GetStringMap(v, "Options");
  return info;
}

}  // namespace

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

}  // namespace podcd::podman
