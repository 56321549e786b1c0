// podman::Client: container logs (and their frame format) and the event log.
#include "podman/client.hpp"

#include <rapidjson/document.h>

#include "podman/client_internal.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::podman {

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
  auto read = ForEachJsonLine(r->body, "event", call, [&](const rapidjson::Document& doc) -> Expected<void> {
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
    return {};
  });
  if (!read) return std::unexpected(read.error());
  return out;
}

}  // namespace podcd::podman
