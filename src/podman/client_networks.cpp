// podman::Client: networks.
#include "podman/client.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "podman/client_internal.hpp"
#include "util/json.hpp"

namespace podcd::podman {
namespace {

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
  info.ipv6_enabled = GetBool(v, "ipv6_enabled");
  info.ipam_options = GetStringMap(v, "ipam_options");
  auto subnets = v.FindMember("subnets");
  if (subnets != v.MemberEnd() && subnets->value.IsArray()) {
    for (const auto& s : subnets->value.GetArray()) {
      Subnet subnet{json::GetStr(s, "subnet"), json::GetStr(s, "gateway"), {}, {}};
      auto lease = s.FindMember("lease_range");
      if (lease != s.MemberEnd() && lease->value.IsObject()) {
        subnet.lease_start = json::GetStr(lease->value, "start_ip");
        subnet.lease_end = json::GetStr(lease->value, "end_ip");
      }
      info.subnets.push_back(std::move(subnet));
    }
  }
  return info;
}

void WriteSubnets(Writer& w, const std::vector<Subnet>& subnets) {
  if (subnets.empty()) return;
  w.Key("subnets");
  w.StartArray();
  for (const auto& s : subnets) {
    w.StartObject();
    w.Key("subnet");
    w.String(s.subnet);
    if (!s.gateway.empty()) {
      w.Key("gateway");
      w.String(s.gateway);
    }
    if (!s.lease_start.empty() || !s.lease_end.empty()) {
      w.Key("lease_range");
      w.StartObject();
      w.Key("start_ip");
      w.String(s.lease_start);
      w.Key("end_ip");
      w.String(s.lease_end);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

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
  if (!request.ipam_options.empty()) WriteMap(w, "ipam_options", request.ipam_options);
  WriteSubnets(w, request.subnets);
  w.Key("ipv6_enabled");
  w.Bool(request.ipv6_enabled);
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
  return RemovalReport(*r, call);
}

Expected<void> Client::DisconnectNetwork(std::string_view network, std::string_view container) {
  const std::string call = "podman network disconnect " + std::string(network) + " " + std::string(container);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("Container");
  json::Text(w, container);
  w.EndObject();
  const std::string body(buffer.GetString(), buffer.GetSize());
  auto r = Call("POST", Path("/networks/" + Seg(network) + "/disconnect"), body, call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200 && r->status != 204) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
}

Expected<void> Client::ConnectNetwork(std::string_view network, const NetworkConnect& request) {
  const std::string call = "podman network connect " + std::string(network) + " " + request.container;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("container");
  w.String(request.container);
  w.Key("aliases");
  w.StartArray();
  for (const auto& a : request.aliases) w.String(a);
  w.EndArray();
  if (!request.static_ip.empty()) {
    w.Key("static_ips");
    w.StartArray();
    w.String(request.static_ip);
    w.EndArray();
  }
  if (!request.static_mac.empty()) {
    w.Key("static_mac");
    w.String(request.static_mac);
  }
  w.EndObject();
  auto r = Call("POST", Path("/networks/" + Seg(network) + "/connect"),
                std::string_view(buffer.GetString(), buffer.GetSize()), call, options_.timeout);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200 && r->status != 204) {
    return std::unexpected(ErrorFromResponse(r->status, r->body, call));
  }
  return {};
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

}  // namespace podcd::podman
