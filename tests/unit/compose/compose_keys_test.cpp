// The table of compose keys (core/compose_keys): every row must reach the fingerprint. Each
// row has a mutation here, applied alone to a stack where every key has a non-default
// value; a row added without one fails, so a key cannot silently stop recreating containers.
#include "core/compose_keys.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <type_traits>

#include "core/fingerprint.hpp"
#include "golden_fixtures.hpp"
#include "helpers.hpp"
#include "key_mutations.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

// Top-level definitions: each key of the section tables, on a definition `web` uses.
const std::map<std::string, Mutation> kNetworkMutations = {
    {"driver", {"driver: bridge", "driver: macvlan"}},
    {"driver_opts", {"mtu: \"1400\"", "mtu: \"1500\""}},
    {"enable_ipv6", {"enable_ipv6: true", "enable_ipv6: false"}},
    {"external", {"  back:\n    external: true", "  back:\n    external: false"}},
    {"internal", {"internal: true", "internal: false"}},
    {"ipam", {"gateway: 10.5.0.1", "gateway: 10.5.0.2"}},
    {"labels", {"labels: {n: \"1\"}", "labels: {n: \"2\"}"}},
    {"name", {"enable_ipv6: true\n", "enable_ipv6: true\n    name: front-net\n"}},
};
const std::map<std::string, Mutation> kVolumeMutations = {
    {"driver", {"driver: local", "driver: other"}},
    {"driver_opts", {"driver_opts: {type: tmpfs}", "driver_opts: {type: none}"}},
    {"external", {"  cache:\n    external: true", "  cache:\n    external: false"}},
    {"labels", {"labels: {v: \"1\"}", "labels: {v: \"2\"}"}},
    {"name", {"name: golden-data", "name: golden-data2"}},
};
const std::map<std::string, Mutation> kFileObjectMutations = {
    {"external", {"ext: {external: true, name: real-ext}", "ext: {file: ./cfg.conf, name: real-ext}"}},
    {"file", {"cfg2: {file: ./cfg.conf", "cfg2: {file: ./web.env"}},
    {"name", {"name: cfg-two", "name: cfg-three"}},
};

std::string ReplaceOnce(std::string text, const std::string& from, const std::string& to) {
  auto p = text.find(from);
  REQUIRE(p != std::string::npos);
  REQUIRE(text.find(from, p + 1) == std::string::npos);  // the edit must be unambiguous
  return text.replace(p, from.size(), to);
}

std::string Fp(const core::Stack& stack, const std::string& service) {
  const auto* s = stack.Find(service);
  REQUIRE(s != nullptr);
  return core::Fingerprint(stack, *s);
}

// Applies the mutation for every key of `keys`; each must change the fingerprint.
template <class Keys>
void EveryKeyChangesTheFingerprint(const Keys& keys, const std::map<std::string, Mutation>& mutations) {
  Repo repo;
  WriteGoldenFiles(repo);
  const auto base = repo.Ok("golden", kGoldenEveryKey);
  std::size_t mutated = 0;
  for (const auto& row : keys) {
    const std::string key(row.key);
    INFO("key " << key);
    // Accepted and ignored: in no fingerprint (networks_ipam_test.cpp checks that it is not).
    if constexpr (std::is_same_v<std::decay_t<decltype(row)>, core::ServiceKey>) {
      if (row.parse == core::ParseAs::kIgnored) continue;
    }
    auto it = mutations.find(key);
    if (it == mutations.end()) {
      FAIL_CHECK("no mutation for this key: add one to compose_keys_test.cpp");
      continue;
    }
    const auto& m = it->second;
    auto changed = repo.Ok("golden", ReplaceOnce(kGoldenEveryKey, m.from, m.to));
    CHECK(Fp(changed, m.service) != Fp(base, m.service));
    ++mutated;
  }
  // No mutation for a key the table does not have.
  CHECK(mutated == mutations.size());
}

}  // namespace

TEST_CASE("every service key of the table changes the fingerprint") {
  EveryKeyChangesTheFingerprint(core::ServiceKeys(), kServiceMutations);
}

TEST_CASE("every key of the definition tables changes the fingerprint") {
  SECTION("networks") { EveryKeyChangesTheFingerprint(core::NetworkKeys(), kNetworkMutations); }
  SECTION("volumes") { EveryKeyChangesTheFingerprint(core::VolumeKeys(), kVolumeMutations); }
  SECTION("configs and secrets") {
    EveryKeyChangesTheFingerprint(core::FileObjectKeys(), kFileObjectMutations);
  }
}

TEST_CASE("FindServiceKey finds every row and nothing else") {
  std::set<std::string_view> keys;
  for (const auto& row : core::ServiceKeys()) {
    INFO(row.key);
    CHECK(core::FindServiceKey(row.key) == &row);
    CHECK(keys.insert(row.key).second);
  }
  CHECK(core::FindServiceKey("") == nullptr);
  CHECK(core::FindServiceKey("imag") == nullptr);
  CHECK(core::FindServiceKey("zzz") == nullptr);
  CHECK(core::FindServiceKey("x-extension") == nullptr);
}

TEST_CASE("a key outside the table is refused with the same message as before") {
  Repo repo;
  auto errors = repo.Errors("golden", "services:\n  web:\n    image: x\n    oom_score_adj: 1\n");
  CHECK(errors ==
        "services/golden/compose.yml:4:5: services.web.oom_score_adj: unsupported key \"oom_score_adj\" "
        "(podcd refuses what it would otherwise silently ignore)\n");
  errors = repo.Errors("golden", "services:\n  web: {image: x}\nnetworks:\n  n: {attachable: true}\n");
  CHECK(errors ==
        "services/golden/compose.yml:4:7: networks.n.attachable: unsupported key \"attachable\" "
        "(podcd refuses what it would otherwise silently ignore)\n");
}
