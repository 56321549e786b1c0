// The SpecGenerator column of the compose key table (core/compose_keys): every service key
// reaches exactly the fields of the container create body (and of the service's job) that its
// row names. Each key's edit from key_mutations.hpp is applied alone to the every-key stack;
// the fields of reconcile::MapService's output that change must be the row's, and at least one
// must change. A row that names no field must change none: the key does not reach Podman.
#include <catch2/catch.hpp>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>
#include <sstream>

#include "core/compose_keys.hpp"
#include "core/plan.hpp"
#include "podman/spec.hpp"
#include "reconcile/spec_map.hpp"
#include "unit/compose/golden_fixtures.hpp"
#include "unit/compose/helpers.hpp"
#include "unit/compose/key_mutations.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string Text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return buf.GetString();
}

// The body's top-level fields, and the job's fields that are not in the body, each as text.
// The labels podcd adds (fingerprint, field hashes) change with every key: left out.
std::map<std::string, std::string> Fields(const core::Stack& stack, const std::string& service) {
  const auto* s = stack.Find(service);
  REQUIRE(s != nullptr);
  auto job = reconcile::MapService(stack, *s, reconcile::DeployLabels{});
  if (!job) FAIL(job.error().What());
  job->spec.labels.erase(std::string(core::kLabelFingerprint));
  job->spec.labels.erase(std::string(core::kLabelFields));
  rapidjson::Document body;
  body.Parse(podman::ToSpecGeneratorJson(job->spec).c_str());
  REQUIRE(body.IsObject());
  std::map<std::string, std::string> out;
  for (const auto& m : body.GetObject()) out[m.name.GetString()] = Text(m.value);
  std::ostringstream deps;
  for (const auto& d : job->depends_on) deps << d.service << ":" << static_cast<int>(d.condition) << " ";
  out["job.depends_on"] = deps.str();
  out["job.pull"] = std::to_string(static_cast<int>(job->pull)) + (job->pull_never ? " never" : "");
  std::string build;
  if (job->build) {
    build = job->build->target + " " + job->build->dockerfile;
    for (const auto& tag : job->build->tags) build += " " + tag;
  }
  out["job.build"] = build;
  return out;
}

std::set<std::string> Words(std::string_view text) {
  std::set<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

}  // namespace

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// The every-key stack as MapService takes it: its external secret made file-based (Podman
// cannot be given one yet), and `pid: private`, since `init: true` needs the container's own
// pid namespace. So the edit of `pid` is this test's own. So are those of `networks` (the
// shared edit changes `priority`, which orders nothing in Podman's create body) and `deploy`
// (the service sets pids_limit, which wins over deploy's pids: without it, deploy's count
// reaches the body).
std::string Mappable(const std::string& text) {
  return Replace(Replace(text, "source: ext, target: tokfile", "source: tok, target: tokfile"), "pid: host",
                 "pid: private");
}
const std::map<std::string, Mutation> kOwnMutations = {
    {"pid", {"    pid: private\n", ""}},
    {"networks", {"aliases: [www]", "aliases: [www2]"}},
    {"deploy", {"    pids_limit: 100\n", ""}},
};

TEST_CASE("every service key reaches exactly the SpecGenerator fields its row names") {
  Repo repo;
  WriteGoldenFiles(repo);
  const std::string every_key = Mappable(kGoldenEveryKey);
  const auto base = repo.Ok("golden", every_key);
  for (const auto& row : core::ServiceKeys()) {
    const std::string key(row.key);
    INFO("key " << key << ", row names: \"" << row.spec << "\"");
    if (row.parse == core::ParseAs::kIgnored) continue;  // reaches nothing, by definition
    auto it = kOwnMutations.find(key);
    if (it == kOwnMutations.end()) it = kServiceMutations.find(key);
    REQUIRE(it != kServiceMutations.end());
    const auto& m = it->second;
    const std::string text = Replace(every_key, m.from, m.to);
    const auto before = Fields(base, m.service);
    const auto after = Fields(repo.Ok("golden", text), m.service);
    std::set<std::string> changed;
    for (const auto& [field, value] : after) {
      auto b = before.find(field);
      if (b == before.end() || b->second != value) changed.insert(field);
    }
    for (const auto& [field, value] : before) {
      if (!after.contains(field)) changed.insert(field);
    }
    std::string changed_text;
    for (const auto& c : changed) changed_text += c + " ";
    INFO("changed: " << changed_text);
    const auto named = Words(row.spec);
    for (const auto& c : changed) CHECK(named.contains(c));
    if (!named.empty()) CHECK_FALSE(changed.empty());
  }
}
