// One text edit of kGoldenEveryKey per service key of the table (core/compose_keys), shared by
// the fingerprint test (every key reaches the fingerprint) and the spec test (every key
// reaches the SpecGenerator fields its row names).
#pragma once

#include <map>
#include <string>

namespace podcd::test {

struct Mutation {
  std::string from;
  std::string to;
  std::string service = "web";  // the service whose fingerprint must change
};

// Service keys: one text edit of kGoldenEveryKey each.
inline const std::map<std::string, Mutation> kServiceMutations = {
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
    {"runtime", {"runtime: runc", "runtime: crun"}},
};

}  // namespace podcd::test
