#include <rapidjson/stringbuffer.h>

#include "core/plan.hpp"
#include "util/json.hpp"

namespace podcd::core {
namespace {

// Strings are written as the API answers write them (json::Text): valid UTF-8 whatever a
// reason quotes (a binary compose file's bytes), and the same bytes as podcd wrote before.
void Text(json::Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  json::Text(w, value);
}

void Reasons(json::Writer& w, const std::vector<std::string>& reasons) {
  w.Key("reasons");
  w.StartArray();
  for (const auto& r : reasons) json::Text(w, r);
  w.EndArray();
}

}  // namespace

std::string ToJson(const PlanResult& plan, std::string_view commit) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  Text(w, "commit", commit);
  w.Key("stacks");
  w.StartArray();
  for (const auto& st : plan.stacks) {
    w.StartObject();
    Text(w, "name", st.name);
    Text(w, "action", ToString(st.action));
    Reasons(w, st.reasons);
    if (!st.notes.empty()) {
      w.Key("notes");
      w.StartArray();
      for (const auto& n : st.notes) json::Text(w, n);
      w.EndArray();
    }
    w.Key("services");
    w.StartArray();
    for (const auto& sv : st.services) {
      w.StartObject();
      Text(w, "name", sv.name);
      Text(w, "action", ToString(sv.action));
      Reasons(w, sv.reasons);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace podcd::core
