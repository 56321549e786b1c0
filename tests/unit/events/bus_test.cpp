#include "events/bus.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

using namespace podcd;
using events::Bus;
using events::Kind;

TEST_CASE("every subscriber hears every event in order, numbered, without the log") {
  Bus bus;
  std::vector<std::string> a;
  std::vector<std::uint64_t> b;
  auto sa = bus.Subscribe([&](const events::Event& e) {
    a.push_back(std::string(events::ToString(e.kind)) + ":" + e.deployment.id + ":" +
                std::to_string(e.deployment.log.size()));
  });
  auto sb = bus.Subscribe([&](const events::Event& e) { b.push_back(e.seq); });
  state::Deployment d;
  d.id = "d1";
  d.log = {"a line", "another"};
  events::Publish(&bus, Kind::kQueued, d);
  events::Publish(&bus, Kind::kStarted, d);
  events::Publish(&bus, Kind::kStack, d, state::StackOutcome{"web", "updated", "", 3});
  events::Event raw;
  raw.kind = Kind::kFinished;
  raw.deployment = d;  // Publish itself drops the log too
  bus.Publish(raw);
  CHECK(a == std::vector<std::string>{"queued:d1:0", "started:d1:0", "stack:d1:0", "finished:d1:0"});
  CHECK(b == std::vector<std::uint64_t>{1, 2, 3, 4});
  CHECK(bus.NextSeq() == 5);
}

TEST_CASE("a dropped subscription hears nothing more; no bus is no-op") {
  Bus bus;
  int heard = 0;
  {
    auto s = bus.Subscribe([&](const events::Event&) { ++heard; });
    events::Publish(&bus, Kind::kQueued, state::Deployment{});
    Bus::Subscription moved = std::move(s);
    events::Publish(&bus, Kind::kQueued, state::Deployment{});
  }
  events::Publish(&bus, Kind::kQueued, state::Deployment{});
  CHECK(heard == 2);
  events::Publish(nullptr, Kind::kQueued, state::Deployment{});
}

TEST_CASE("unsubscribing while another thread publishes never runs a dead handler") {
  Bus bus;
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    while (!stop) events::Publish(&bus, Kind::kStarted, state::Deployment{});
  });
  for (int i = 0; i < 200; ++i) {
    auto counter = std::make_unique<int>(0);
    auto s = bus.Subscribe([c = counter.get()](const events::Event&) { ++*c; });
    s.Reset();
    counter.reset();  // a handler running after Reset would write freed memory (ASan)
  }
  stop = true;
  publisher.join();
}
