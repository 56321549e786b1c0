#include "reconcile/schedule.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

using namespace podcd;
using namespace podcd::reconcile;

namespace {

StackJob Job(std::string name, std::vector<std::string> creates,
             std::vector<std::string> uses_external = {}) {
  StackJob j;
  j.name = std::move(name);
  for (auto& n : creates) {
    podman::NetworkCreate c;
    c.name = n;
    j.networks.push_back(c);
  }
  j.external_networks = std::move(uses_external);
  return j;
}

std::vector<std::string> Names(const std::vector<StackJob>& jobs, const StackSchedule& s) {
  std::vector<std::string> out;
  for (auto i : s.order) out.push_back(jobs[i].name);
  return out;
}

StackSchedule Schedule(const std::vector<StackJob>& jobs) {
  std::vector<const StackJob*> ptrs;
  for (const auto& j : jobs) ptrs.push_back(&j);
  return ScheduleStacks(ptrs);
}

}  // namespace

TEST_CASE("a stack using a network as external comes after the stack that creates it") {
  // Name order would start the apps before the proxy that creates their network.
  std::vector<StackJob> jobs = {Job("app1", {"app1_default"}, {"proxy"}), Job("app2", {}, {"proxy"}),
                                Job("db", {"db_default"}), Job("traefik", {"proxy"})};
  auto s = Schedule(jobs);
  CHECK(Names(jobs, s) == std::vector<std::string>{"db", "traefik", "app1", "app2"});
  REQUIRE(s.after.size() == 4);
  CHECK(s.after[0].empty());                         // db
  CHECK(s.after[1].empty());                         // traefik
  CHECK(s.after[2] == std::vector<std::size_t>{1});  // app1 waits for traefik
  CHECK(s.after[3] == std::vector<std::size_t>{1});  // app2 too
}

TEST_CASE("independent stacks keep their order; an external network nobody creates adds no wait") {
  std::vector<StackJob> jobs = {Job("a", {"a_default"}), Job("b", {}, {"made-by-hand"}), Job("c", {"c_net"})};
  auto s = Schedule(jobs);
  CHECK(Names(jobs, s) == std::vector<std::string>{"a", "b", "c"});
  for (const auto& w : s.after) CHECK(w.empty());
}

TEST_CASE("stacks that use each other's networks run in their given order, without a deadlock") {
  std::vector<StackJob> jobs = {Job("x", {"xnet"}, {"ynet"}), Job("y", {"ynet"}, {"xnet"}),
                                Job("z", {}, {"xnet"})};
  auto s = Schedule(jobs);
  CHECK(Names(jobs, s) == std::vector<std::string>{"x", "y", "z"});
  CHECK(s.after[0].empty());
  CHECK(s.after[1] == std::vector<std::size_t>{0});
  CHECK(s.after[2] == std::vector<std::size_t>{0});
  std::vector<std::size_t> ran;
  std::mutex m;
  RunScheduled(s, 4, [&](std::size_t p) {
    std::lock_guard lock(m);
    ran.push_back(p);
  });
  CHECK(ran.size() == 3);
}

TEST_CASE("RunScheduled: at most `parallel` at once, every wait honoured, each position once") {
  // 12 stacks; every third waits for the one before it.
  StackSchedule s;
  for (std::size_t p = 0; p < 12; ++p) {
    s.order.push_back(p);
    s.after.push_back(p % 3 == 2 ? std::vector<std::size_t>{p - 1} : std::vector<std::size_t>{});
  }
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  std::mutex m;
  std::vector<int> done(12, 0);
  std::vector<std::string> violations;
  RunScheduled(s, 3, [&](std::size_t p) {
    int now = ++active;
    for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
    }
    {
      std::lock_guard lock(m);
      for (auto q : s.after[p]) {
        if (done[q] == 0) violations.push_back(std::to_string(p) + " before " + std::to_string(q));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      std::lock_guard lock(m);
      ++done[p];
    }
    --active;
  });
  CHECK(violations.empty());
  CHECK(peak.load() <= 3);
  CHECK(peak.load() >= 2);  // they did overlap
  for (int d : done) CHECK(d == 1);

  int calls = 0;
  RunScheduled(StackSchedule{}, 4, [&](std::size_t) { ++calls; });
  CHECK(calls == 0);
  RunScheduled(s, 1, [&](std::size_t) { ++calls; });  // sequential
  CHECK(calls == 12);
}
