// Plan benchmark: a generated environment repo of N stacks (3 services each, a .env file,
// a bind-mounted config file and a bind-mounted config directory). Times podcd's side of a
// no-change plan (load + interpolate + policy + fingerprint every stack, then core::Plan
// against containers that match) cold and warm, and the shell approach podcd replaces
// (`cat compose .env | sha256sum` per stack directory). Podman's container listing is not
// included here (see "Podman client" in docs/benchmarks.md for its latency).
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/plan.hpp"
#include "reconcile/desired.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

void Generate(const fs::path& root, int stacks) {
  for (int i = 0; i < stacks; ++i) {
    std::string name = "stack" + std::to_string(i);
    fs::path dir = root / "services" / name;
    Write(dir / ".env",
          "TAG=1." + std::to_string(i) + "\nPORT=" + std::to_string(20000 + i) + "\nGREETING=hello\n");
    Write(dir / "nginx.conf", std::string(2048, 'x') + "\n# " + name + "\n");
    for (int f = 0; f < 5; ++f)
      Write(dir / "conf.d" / ("part" + std::to_string(f) + ".conf"), "value=" + std::to_string(f * i) + "\n");
    Write(dir / "compose.yml",
          "x-common: &common\n  restart: unless-stopped\n  init: true\n"
          "services:\n"
          "  web:\n    <<: *common\n    image: localhost/bb:${TAG}\n    ports: [\"127.0.0.1:${PORT}:80\"]\n"
          "    volumes: [\"./nginx.conf:/etc/nginx.conf:ro\", \"./conf.d:/etc/conf.d:ro\"]\n"
          "    environment: {GREETING: \"${GREETING}\", STACK: " +
              name +
              "}\n"
              "    depends_on: {api: {condition: service_healthy}}\n"
              "  api:\n    <<: *common\n    image: localhost/bb:1\n    command: [\"httpd\", \"-f\", \"-p\", "
              "\"8080\"]\n"
              "    healthcheck: {test: [\"CMD\", \"true\"], interval: 5s, retries: 3}\n"
              "    networks: {default: {aliases: [api.internal]}}\n"
              "  db:\n    <<: *common\n    image: localhost/bb:1\n    volumes: [\"data:/data\"]\n    "
              "env_file: [.env]\n"
              "volumes:\n  data: {}\n");
  }
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Containers exactly as a previous deployment of `desired` left them.
std::vector<podcd::core::ActualContainer> Matching(const podcd::reconcile::DesiredState& desired) {
  std::vector<podcd::core::ActualContainer> out;
  for (const auto& st : desired.stacks) {
    for (const auto& s : st.services) {
      podcd::core::ActualContainer c;
      c.id = st.name + s.name;
      c.name = st.name + "_" + s.name + "_1";
      c.stack = st.name;
      c.service = s.name;
      c.fingerprint = s.fingerprint;
      c.field_hashes = s.field_hashes;
      c.running = true;
      c.status = "running";
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int stacks = argc > 1 ? std::atoi(argv[1]) : 500;
  const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
  fs::path root = fs::temp_directory_path() / ("podcd-plan-bench-" + std::to_string(::getpid()));
  fs::remove_all(root);
  Generate(root, stacks);

  podcd::config::Config cfg;
  cfg.repo.path = root.string();
  cfg.repo.services_dir = "services";
  cfg.repo.secrets_dir = "secrets";
  cfg.policy.allowed_bind_roots = {"/etc/localtime", "/etc/timezone"};

  // Cold: the first load in this process, after asking the kernel to drop its page cache
  // (works as root; otherwise the files are merely fresh in the cache).
  std::system("sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null");
  auto t0 = Clock::now();
  auto first = podcd::reconcile::LoadDesired(cfg);
  auto cold_load = Ms(Clock::now() - t0);
  if (!first) {
    std::fprintf(stderr, "load failed: %s\n", first.error().What().c_str());
    return 1;
  }
  auto actual = Matching(*first);
  t0 = Clock::now();
  auto plan = podcd::core::Plan(first->stacks, actual);
  auto cold_plan = Ms(Clock::now() - t0);
  int invalid = 0;
  for (const auto& st : first->stacks) invalid += st.status != podcd::core::StackStatus::kOk;
  if (plan.HasWork() || invalid) {
    std::fprintf(stderr, "unexpected: %d invalid stacks, work=%d\n", invalid, plan.HasWork());
    return 1;
  }

  std::vector<double> warm;
  for (int i = 0; i < runs; ++i) {
    t0 = Clock::now();
    auto d = podcd::reconcile::LoadDesired(cfg);
    auto p = podcd::core::Plan(d->stacks, actual);
    warm.push_back(Ms(Clock::now() - t0));
    if (p.HasWork()) return 1;
  }

  // The shell approach: one hash per stack directory of its compose and env file.
  std::string shell =
      "cd " + root.string() +
      " && for d in services/*/; do cat \"$d\"compose.yml \"$d\".env | sha256sum; done >/dev/null";
  std::vector<double> sh;
  for (int i = 0; i < runs; ++i) {
    t0 = Clock::now();
    if (std::system(("bash -c '" + shell + "'").c_str()) != 0) return 1;
    sh.push_back(Ms(Clock::now() - t0));
  }
  double warm_ms = Median(warm);
  double sh_ms = Median(sh);
  std::printf("stacks %d, services %d, runs %d\n", stacks, stacks * 3, runs);
  std::printf("podcd cold: load %.1f ms + plan %.1f ms\n", cold_load, cold_plan);
  std::printf("podcd warm no-change plan (load + fingerprint + plan), median: %.1f ms\n", warm_ms);
  std::printf("shell cat|sha256sum per stack, median: %.1f ms\n", sh_ms);
  std::printf("ratio podcd/shell: %.2f\n", warm_ms / sh_ms);
  fs::remove_all(root);
  return 0;
}
