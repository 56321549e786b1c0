#include "http/event_stream.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace podcd;
using http::EventRing;
using http::StreamedEvent;

namespace {

StreamedEvent At(std::uint64_t seq, std::vector<std::string> stacks = {}, bool any = false) {
  StreamedEvent e;
  e.seq = seq;
  e.frame = std::make_shared<const std::string>("id: " + std::to_string(seq) + "\n\n");
  e.stacks = std::move(stacks);
  e.any = any;
  return e;
}

std::vector<std::uint64_t> Seqs(const EventRing::Resume& r) {
  std::vector<std::uint64_t> out;
  for (const auto& e : r.events) out.push_back(e.seq);
  return out;
}

state::Deployment Deployment(std::string id, std::vector<std::string> stacks, bool all_changed) {
  state::Deployment d;
  d.id = std::move(id);
  d.trigger.kind = all_changed ? state::TriggerKind::kDeployAllChanged : state::TriggerKind::kDeploy;
  d.trigger.stacks = std::move(stacks);
  d.trigger.all_changed = all_changed;
  return d;
}

// What a stream's connection received (a fake of the Pistache sink: pure logic under test).
class FakeSink final : public http::EventSink {
 public:
  struct Shared {
    std::mutex m;
    std::string text;
    bool ended = false;
    bool aborted = false;
    std::atomic<std::size_t> buffered{0};
  };
  explicit FakeSink(std::shared_ptr<Shared> s) : s_(std::move(s)) {}
  bool Write(std::string bytes, bool last) override {
    std::lock_guard lock(s_->m);
    if (s_->ended || s_->aborted) return false;
    s_->text += bytes;
    s_->ended = last;
    return true;
  }
  [[nodiscard]] std::size_t Buffered() const override { return s_->buffered; }
  void Abort() override {
    std::lock_guard lock(s_->m);
    s_->aborted = true;
  }

 private:
  std::shared_ptr<Shared> s_;
};

// Waits (at most 5 s) until the sink's text has `needle`.
bool Received(FakeSink::Shared& s, const std::string& needle) {
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(s.m);
      if (s.text.find(needle) != std::string::npos) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string Text(FakeSink::Shared& s) {
  std::lock_guard lock(s.m);
  return s.text;
}

}  // namespace

TEST_CASE("event ring: a client resumes after the last id it saw, oldest first") {
  EventRing ring(4, 1);
  CHECK(ring.NextSeq() == 1);
  CHECK_FALSE(ring.After(0).reset);  // nothing published yet, nothing missed
  CHECK(ring.After(0).events.empty());
  for (std::uint64_t s = 1; s <= 3; ++s) ring.Push(At(s));
  CHECK(ring.NextSeq() == 4);
  CHECK(Seqs(ring.After(0)) == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(Seqs(ring.After(1)) == std::vector<std::uint64_t>{2, 3});
  CHECK(ring.After(3).events.empty());
  CHECK_FALSE(ring.After(3).reset);
}

TEST_CASE("event ring: an id older than the ring, or one this process never gave, is a reset") {
  EventRing ring(3, 1);
  for (std::uint64_t s = 1; s <= 10; ++s) ring.Push(At(s));
  // Holds 8, 9, 10: a client that saw 7 misses nothing; one that saw 6 missed 7.
  CHECK(Seqs(ring.After(7)) == std::vector<std::uint64_t>{8, 9, 10});
  CHECK(ring.After(6).reset);
  CHECK(ring.After(6).events.empty());
  CHECK(ring.After(0).reset);
  // A client of a podcd before a restart: its id is ahead of this process's numbers.
  CHECK(ring.After(11).reset);
  CHECK(ring.After(500).reset);
  // A stream subscribed late starts from the bus's next seq: earlier ids are missed events.
  EventRing late(3, 100);
  CHECK_FALSE(late.After(99).reset);
  CHECK(late.After(98).reset);
}

TEST_CASE("event filter: a stack's events, and the queued/started/finished events of every-stack runs") {
  auto one = http::StreamedOf({events::Kind::kQueued, 1, Deployment("a", {"web"}, false), std::nullopt});
  CHECK(one.Matches(""));
  CHECK(one.Matches("web"));
  CHECK_FALSE(one.Matches("db"));
  auto all = http::StreamedOf({events::Kind::kStarted, 2, Deployment("b", {}, true), std::nullopt});
  CHECK(all.Matches("db"));
  auto stack = http::StreamedOf(
      {events::Kind::kStack, 3, Deployment("b", {}, true), state::StackOutcome{"web", "updated", "", 1}});
  CHECK(stack.Matches("web"));
  CHECK_FALSE(stack.Matches("db"));
  CHECK(stack.frame->starts_with("event: stack\nid: 3\ndata: {\"seq\":3,\"kind\":\"stack\""));
  CHECK(stack.frame->ends_with("}\n\n"));
  auto started = http::StreamedOf(
      {events::Kind::kStackStarted, 4, Deployment("b", {}, true), state::StackOutcome{"web", "", "", 0}});
  CHECK(started.Matches("web"));
  CHECK_FALSE(started.Matches("db"));
  CHECK(
      started.frame->starts_with("event: stack-started\nid: 4\ndata: {\"seq\":4,\"kind\":\"stack-started\""));
  CHECK(http::ResetFrame(7).starts_with("event: reset\nid: 7\ndata: {"));
}

TEST_CASE("event streams: live events in order, resume by id, a filter, the cap, a stop") {
  events::Bus bus;
  http::EventStreamLimits limits;
  limits.max_streams = 2;
  http::EventStreams streams(&bus, limits);
  streams.Start();
  auto live = std::make_shared<FakeSink::Shared>();
  REQUIRE(streams.Follow(streams.Newest(), "", std::make_unique<FakeSink>(live)));
  events::Publish(&bus, events::Kind::kQueued, Deployment("d1", {"web"}, false));
  events::Publish(&bus, events::Kind::kStarted, Deployment("d1", {"web"}, false));
  events::Publish(&bus, events::Kind::kQueued, Deployment("d2", {"db"}, false));
  REQUIRE(Received(*live, "id: 3\n"));
  const std::string text = Text(*live);
  CHECK(text.find("event: queued\nid: 1\n") < text.find("event: started\nid: 2\n"));
  CHECK(text.find("event: started\nid: 2\n") < text.find("event: queued\nid: 3\n"));

  auto resumed = std::make_shared<FakeSink::Shared>();
  REQUIRE(streams.Follow(1, "web", std::make_unique<FakeSink>(resumed)));
  REQUIRE(Received(*resumed, "id: 2\n"));
  CHECK(Text(*resumed).find("id: 1\n") == std::string::npos);                           // seen before
  CHECK(Text(*resumed).find("\"d2\"") == std::string::npos);                            // another stack's
  CHECK_FALSE(streams.Follow(streams.Newest(), "", std::make_unique<FakeSink>(live)));  // full
  CHECK(streams.Full());
  streams.Stop();
  CHECK(Text(*live).ends_with(": podcd is stopping\n\n"));
  CHECK(live->ended);
  events::Publish(&bus, events::Kind::kFinished, Deployment("d1", {"web"}, false));  // nobody hears it
}

TEST_CASE("event streams: a resume older than the ring says reset, then goes on live") {
  events::Bus bus;
  http::EventStreamLimits limits;
  limits.ring = 2;
  http::EventStreams streams(&bus, limits);
  streams.Start();
  for (int i = 0; i < 5; ++i) events::Publish(&bus, events::Kind::kQueued, Deployment("d", {"web"}, false));
  auto sink = std::make_shared<FakeSink::Shared>();
  REQUIRE(streams.Follow(1, "", std::make_unique<FakeSink>(sink)));
  REQUIRE(Received(*sink, "event: reset\nid: 5\n"));
  events::Publish(&bus, events::Kind::kStarted, Deployment("d", {"web"}, false));
  REQUIRE(Received(*sink, "id: 6\n"));
  CHECK(Text(*sink).find("id: 4\n") == std::string::npos);
}

TEST_CASE("event streams: a client over its unsent bound is dropped; publishing goes on; heartbeats") {
  events::Bus bus;
  http::EventStreamLimits limits;
  limits.max_buffered = 1000;
  limits.max_streams = 1;
  limits.heartbeat = std::chrono::milliseconds(50);
  http::EventStreams streams(&bus, limits);
  streams.Start();
  auto slow = std::make_shared<FakeSink::Shared>();
  REQUIRE(streams.Follow(streams.Newest(), "", std::make_unique<FakeSink>(slow)));
  REQUIRE(Received(*slow, ": heartbeat\n\n"));  // a quiet stream stays open
  slow->buffered = 5000;                        // it stopped reading
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) events::Publish(&bus, events::Kind::kQueued, Deployment("d", {}, true));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  for (int i = 0; i < 500 && streams.Open() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(streams.Open() == 0);
  CHECK(slow->aborted);
  CHECK_FALSE(streams.Full());  // its place is free again
}
