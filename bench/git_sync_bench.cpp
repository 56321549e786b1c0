// Benchmark: N repository syncs from one long-lived process, either through SyncInChild
// (podcd __sync in a child, as the daemon does) or in-process with libgit2. Prints the
// process's RSS before and after and the median sync time with and without a new commit.
//
//   git_sync_bench --mode child|inprocess --url URL --dev DIR --work DIR [--syncs 1000] [--change-every 10]
//
// URL is the remote to sync from; DIR is a clone of it that the benchmark commits to and pushes
// from (git CLI) before every change-every-th sync.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "git/repo.hpp"
#include "util/log.hpp"
#include "worker/sync.hpp"

namespace {

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Die(const std::string& msg) {
  std::fprintf(stderr, "git_sync_bench: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "child", url, dev, work, binary = PODCD_BINARY;
  int syncs = 1000, change_every = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--mode")
      mode = v;
    else if (a == "--url")
      url = v;
    else if (a == "--dev")
      dev = v;
    else if (a == "--work")
      work = v;
    else if (a == "--syncs")
      syncs = std::stoi(v);
    else if (a == "--change-every")
      change_every = std::stoi(v);
    else if (a == "--binary")
      binary = v;
    else
      return Die("unknown option " + a);
  }
  if (url.empty() || dev.empty() || work.empty()) return Die("--url, --dev and --work are required");
  podcd::log::Configure(podcd::log::Format::kText, podcd::log::Level::kWarn);

  podcd::config::Config cfg;
  cfg.repo.path = work + "/repo";
  cfg.repo.url = url;
  cfg.repo.branch = "main";
  cfg.repo.services_dir = "services";
  cfg.repo.secrets_dir = "secrets";
  cfg.repo.sync_timeout = std::chrono::minutes(1);
  cfg.repo.allow_insecure = true;  // the benchmark measures git:// on loopback too
  cfg.state_dir = work + "/state";
  cfg.webhook.secret = "benchmark-webhook-secret";
  cfg.log.level = podcd::log::Level::kWarn;

  auto sync = [&]() -> podcd::Expected<podcd::worker::SyncResult> {
    if (mode == "child") return podcd::worker::SyncInChild(cfg, binary);
    auto r = podcd::git::SyncRepo(cfg.repo, cfg.state_dir);
    if (!r) return std::unexpected(r.error());
    return podcd::worker::SyncResult{r->commit, r->fetched, r->changed};
  };
  // The first sync (the clone) and a warm-up are not measured.
  for (int i = 0; i < 2; ++i) {
    if (auto r = sync(); !r) return Die(r.error().What());
  }
  // Reserved before the first RSS reading so the measurements do not count themselves.
  std::vector<double> no_change_ms, change_ms;
  no_change_ms.reserve(static_cast<std::size_t>(syncs));
  change_ms.reserve(static_cast<std::size_t>(syncs));
  std::fill_n(std::back_inserter(no_change_ms), syncs, 0.0);
  std::fill_n(std::back_inserter(change_ms), syncs, 0.0);
  no_change_ms.clear();
  change_ms.clear();
  const long rss_before = RssKb();
  int fetches = 0;
  for (int i = 1; i <= syncs; ++i) {
    bool change = change_every > 0 && i % change_every == 0;
    if (change) {
      std::string cmd = "cd '" + dev + "' && echo " + std::to_string(i) +
                        " > services/bench.txt && git add -A && git -c user.name=b -c user.email=b@b.invalid "
                        "commit -qm bench && git push -q origin main";
      if (std::system(cmd.c_str()) != 0) return Die("commit/push failed: " + cmd);
    }
    auto t0 = std::chrono::steady_clock::now();
    auto r = sync();
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r) return Die(r.error().What());
    if (r->fetched) ++fetches;
    if (r->fetched != change)
      return Die("sync " + std::to_string(i) + ": fetched=" + std::to_string(r->fetched));
    (change ? change_ms : no_change_ms).push_back(ms);
  }
  const long rss_after = RssKb();
  std::printf(
      "mode=%s url=%s syncs=%d fetches=%d rss_before_kb=%ld rss_after_kb=%ld rss_growth_kb=%ld "
      "median_no_change_ms=%.2f median_change_ms=%.2f\n",
      mode.c_str(), url.substr(0, url.find("://")).c_str(), syncs, fetches, rss_before, rss_after,
      rss_after - rss_before, Median(no_change_ms), Median(change_ms));
  return 0;
}
