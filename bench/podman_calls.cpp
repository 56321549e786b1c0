// Raw libpod call latencies through podman::Client: ping, inspect, list by label over N
// containers, create, start, stop, remove. Prints medians and p90 in milliseconds.
// Usage: podman_calls SOCKET IMAGE [N=30] [REPS=50]   (see bench/podman_calls.sh)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "podman/client.hpp"

using namespace podcd::podman;
using Clock = std::chrono::steady_clock;

namespace {

struct Stats {
  double median = 0;
  double p90 = 0;
};

Stats Summarize(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  if (ms.empty()) return s;
  s.median = ms.size() % 2 == 1 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
  s.p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  return s;
}

template <typename F>
double TimeMs(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "podman_calls: %s failed\n", what.c_str());
    std::exit(1);
  }
}

void Print(const char* name, const std::vector<double>& samples) {
  const Stats s = Summarize(samples);
  std::printf("| %-40s | %6zu | %8.2f | %8.2f |\n", name, samples.size(), s.median, s.p90);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SOCKET IMAGE [N] [REPS]\n", argv[0]);
    return 2;
  }
  const std::string socket = argv[1];
  const std::string image = argv[2];
  const int n = argc > 3 ? std::atoi(argv[3]) : 30;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 50;
  ClientOptions options;
  options.socket_path = socket;
  Client client(options);
  Check(client.Ping().has_value(), "ping");

  const std::string prefix = "podcdbench-" + std::to_string(getpid());
  const std::string stack_label = "io.podcd.stack=" + prefix;
  std::vector<std::string> to_remove;

  auto spec_for = [&](const std::string& name) {
    ContainerSpec spec;
    spec.name = name;
    spec.image = image;
    spec.command = {"sleep", "600"};
    spec.init = true;
    spec.labels = {{"io.podcd.stack", prefix}, {"io.podcd.service", name}};
    return spec;
  };

  std::vector<double> ping, inspect, list, create, start, create_start, stop, remove;
  for (int i = 0; i < reps; ++i) ping.push_back(TimeMs([&] { Check(client.Ping().has_value(), "ping"); }));

  // N containers carrying the stack label: the shape of one reconcile's "actual state" query.
  for (int i = 0; i < n; ++i) {
    auto id = client.CreateContainer(spec_for(prefix + "-idle-" + std::to_string(i)));
    Check(id.has_value(), "create");
    to_remove.push_back(*id);
  }
  for (int i = 0; i < reps; ++i) {
    list.push_back(TimeMs([&] {
      auto l = client.ListContainers({stack_label});
      Check(l.has_value() && static_cast<int>(l->size()) == n, "list by label");
    }));
  }
  for (int i = 0; i < reps; ++i) {
    inspect.push_back(TimeMs([&] {
      Check(client.InspectContainer(to_remove[static_cast<std::size_t>(i % n)]).has_value(), "inspect");
    }));
  }

  const int cycles = std::max(5, reps / 5);
  for (int i = 0; i < cycles; ++i) {
    std::string id;
    const double c = TimeMs([&] {
      auto got = client.CreateContainer(spec_for(prefix + "-run-" + std::to_string(i)));
      Check(got.has_value(), "create");
      id = *got;
    });
    const double s = TimeMs([&] { Check(client.StartContainer(id).has_value(), "start"); });
    create.push_back(c);
    start.push_back(s);
    create_start.push_back(c + s);
    stop.push_back(
        TimeMs([&] { Check(client.StopContainer(id, std::chrono::seconds(10)).has_value(), "stop"); }));
    remove.push_back(TimeMs([&] { Check(client.RemoveContainer(id, true).has_value(), "remove"); }));
  }
  for (const auto& id : to_remove) static_cast<void>(client.RemoveContainer(id, true));

  auto version = client.Version();
  std::printf("Podman %s, %d labelled containers, %d repetitions (%d create/start cycles)\n\n",
              version ? version->version.c_str() : "?", n, reps, cycles);
  std::printf("| %-40s | %6s | %8s | %8s |\n", "call", "runs", "median ms", "p90 ms");
  std::printf("| %-40s | %6s | %8s | %8s |\n", "---", "---", "---", "---");
  Print("ping", ping);
  Print("container inspect", inspect);
  Print(("list by label (" + std::to_string(n) + " matching)").c_str(), list);
  Print("container create", create);
  Print("container start", start);
  Print("create + start", create_start);
  Print("stop (init, SIGTERM honoured)", stop);
  Print("remove (force)", remove);
  return 0;
}
