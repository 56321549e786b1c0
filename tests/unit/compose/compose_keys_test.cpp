// The table of compose keys (core/compose_keys): every row must reach the fingerprint. Each
// row has a mutation here, applied alone to a stack where every key has a non-default
// value; a row added without one fails, so a key cannot silently stop recreating containers.
#include "core/compose_keys.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "core/fingerprint.hpp"
#include "golden_fixtures.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

struct Mutation {
  std::string from;
  std::string to;
  std::string service = "web";  // the service whose fingerprint must change
};

// Service keys: one text edit of kGoldenEveryKey each.
const std::map<std::string, Mutation> kServiceMutations = {
    {"image", {"image: localhost/web:${TAG}", "image: localhost/web:2"}},
    {"build", {"target: prod", "target: dev"}},
    {"command", {"command: nginx -g \"daemon off;\"", "command: nginx"}},
    {"entrypoint", {"entrypoint: [\"/bin/sh\", \"-c\"]", "entrypoint: [\"/bin/sh\"]"}},
    {"environment", {"FOO: bar", "FOO: baz"}},
    {"env_file", {"- web.env", "- app.env"}},
    {"ports", {"\"127.0.0.1:8080:80\"", "\"127.0.0.1:8081:80\""}},
    {"expose", {"expose: [\"3000\", \"4000/udp\"]", "expose: [\"3000\"]"}},
    {"volumes", {"- /anon\n", "- /anon2\n"}},
    {"networks", {"priority: 10", "priority: 11"}},
    {"links", {"links: [\"api:backend\"]", "links: [\"api:back2\"]"}},
    {"labels", {"com.example: \"1\"", "com.example: \"2\""}},
    {"restart", {"restart: unless-stopped", "restart: always"}},
    {"healthcheck", {"retries: 3", "retries: 4"}},
    {"depends_on", {"condition: service_healthy", "condition: service_started"}},
    {"user", {"user: \"1000:1000\"", "user: \"1001\""}},
    {"working_dir", {"working_dir: /srv", "working_dir: /opt"}},
    {"hostname", {"hostname: web", "hostname: web2"}},
    {"domainname", {"domainname: example.org", "domainname: example.com"}},
    {"cap_add", {"cap_add: [net_admin, CAP_SYS_TIME]", "cap_add: [net_admin]"}},
    {"cap_drop", {"cap_drop: [ALL]", "cap_drop: [NET_RAW]"}},
    {"privileged", {"privileged: true", "privileged: false"}},
    {"read_only", {"read_only: true\n    tmpfs", "read_only: false\n    tmpfs"}},
    {"tmpfs", {"tmpfs: /run", "tmpfs: /run2"}},
    {"init", {"init: true", "init: false"}},
    {"stop_grace_period", {"stop_grace_period: 20s", "stop_grace_period: 21s"}},
    {"stop_signal", {"stop_signal: SIGINT", "stop_signal: SIGTERM"}},
    {"extra_hosts", {"db.local:10.0.0.2", "db.local:10.0.0.4"}},
    {"logging", {"max-size: 10m", "max-size: 20m"}},
    {"profiles", {"profiles: [prod]", "profiles: [dev]"}},
    {"container_name", {"container_name: golden-web", "container_name: golden-web2"}},
    {"network_mode", {"network_mode: host", "network_mode: none", "db"}},
    {"shm_size", {"shm_size: 64m", "shm_size: 65m"}},
    {"mem_limit", {"mem_limit: 1g", "mem_limit: 2g"}},
    {"mem_reservation", {"mem_reservation: 512m", "mem_reservation: 256m"}},
    {"memswap_limit", {"memswap_limit: -1", "memswap_limit: 2g"}},
    {"cpus", {"cpus: 1.5", "cpus: 2"}},
    {"cpu_shares", {"cpu_shares: 512", "cpu_shares: 256"}},
    {"pids_limit", {"pids_limit: 100", "pids_limit: 200"}},
    {"deploy", {"pids: 50", "pids: 60"}},
    {"ulimits", {"nproc: 512", "nproc: 513"}},
    {"sysctls", {"somaxconn: \"1024\"", "somaxconn: \"2048\""}},
    {"dns", {"dns: 1.1.1.1", "dns: 8.8.8.8"}},
    {"dns_search", {"dns_search: [example.org]", "dns_search: [example.com]"}},
    {"dns_opt", {"dns_opt: [use-vc]", "dns_opt: [rotate]"}},
    {"stdin_open", {"stdin_open: true", "stdin_open: false"}},
    {"tty", {"tty: true", "tty: false"}},
    {"security_opt", {"security_opt: [no-new-privileges]", "security_opt: [label=disable]"}},
    {"group_add", {"group_add: [audio]", "group_add: [video]"}},
    {"pull_policy", {"pull_policy: build", "pull_policy: always"}},
    {"platform", {"platform: linux/amd64", "platform: linux/arm64"}},
    {"devices", {"permissions: r}", "permissions: rw}"}},
    {"pid", {"pid: host", "pid: private"}},
    {"ipc", {"ipc: shareable", "ipc: private"}},
    {"userns_mode", {"userns_mode: keep-id", "userns_mode: auto"}},
    {"configs", {"target: /etc/cfg2", "target: /etc/cfg3"}},
    {"secrets", {"target: tokfile", "target: tok2"}},
};

// Top-level definitions: each key of the section tables, on a definition `web` uses.
const std::map<std::string, Mutation> kNetworkMutations = {
    {"driver", {"driver: bridge", "driver: macvlan"}},
    {"driver_opts", {"mtu: \"1400\"", "mtu: \"1500\""}},
    {"enable_ipv6", {"enable_ipv6: true", "enable_ipv6: false"}},
    {"external", {"  back:\n    external: true", "  back:\n    external: false"}},
    {"internal", {"internal: true", "internal: false"}},
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
