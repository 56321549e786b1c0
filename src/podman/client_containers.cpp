// podman::Client: containers (create, start, stop, remove, inspect, healthcheck, wait).
#include "podman/client.hpp"

#include <rapidjson/document.h>

#include "podman/client_internal.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::podman {

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
  return RemovalReport(*r, call);
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
  const Json* settings = GetObject(*doc, "NetworkSettings");
  const Json* networks = settings != nullptr ? GetObject(*settings, "Networks") : nullptr;
  if (networks != nullptr) {
    for (const auto& [name, n] : networks->GetObject()) {
      if (!n.IsObject()) continue;
      NetworkEndpoint e{json::GetStr(n, "IPAddress"), json::GetStr(n, "MacAddress"), {}};
      auto aliases = n.FindMember("Aliases");
      if (aliases != n.MemberEnd() && aliases->value.IsArray()) {
        for (const auto& a : aliases->value.GetArray()) {
          if (a.IsString()) e.aliases.emplace_back(a.GetString(), a.GetStringLength());
        }
      }
      info.networks[name.GetString()] = std::move(e);
    }
  }
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
    s.health = json::GetStr(c, "Status");  // libpod's list gives the healthcheck status there
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

}  // namespace podcd::podman
