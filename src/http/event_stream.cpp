#include "http/event_stream.hpp"

#include <algorithm>

#include "events/event_json.hpp"
#include "http/answers.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"

namespace podcd::http {
namespace {

// How often the stream's thread looks at its clients when nothing happens (heartbeats).
constexpr auto kTick = std::chrono::milliseconds(1000);

}  // namespace

bool StreamedEvent::Matches(std::string_view stack) const {
  return stack.empty() || any || std::find(stacks.begin(), stacks.end(), stack) != stacks.end();
}

StreamedEvent StreamedOf(const events::Event& event) {
  StreamedEvent s;
  s.seq = event.seq;
  s.frame = std::make_shared<const std::string>(
      SseFrame(events::ToString(event.kind), std::to_string(event.seq), events::ToJson(event)));
  const auto& d = event.deployment;
  if ((event.kind == events::Kind::kStack || event.kind == events::Kind::kStackStarted) && event.stack) {
    s.stacks = {event.stack->name};
    return s;
  }
  // A deployment of every changed stack (or a sync) learns its stacks as it runs: it may
  // concern any of them.
  s.any = d.trigger.all_changed || d.trigger.stacks.empty();
  s.stacks = d.trigger.stacks;
  for (const auto& o : d.stacks) {
    if (std::find(s.stacks.begin(), s.stacks.end(), o.name) == s.stacks.end()) s.stacks.push_back(o.name);
  }
  return s;
}

EventRing::EventRing(std::size_t capacity, std::uint64_t next_seq)
    : capacity_(std::max<std::size_t>(capacity, 1)), next_(next_seq) {}

void EventRing::Push(StreamedEvent event) {
  next_ = std::max(next_, event.seq + 1);
  events_.push_back(std::move(event));
  while (events_.size() > capacity_) events_.pop_front();
}

EventRing::Resume EventRing::After(std::uint64_t last) const {
  Resume r;
  const std::uint64_t oldest = events_.empty() ? next_ : events_.front().seq;
  // An id this process never gave (a client of a podcd before a restart), or events it missed
  // that the ring no longer holds.
  if (last >= next_ || last + 1 < oldest) {
    r.reset = true;
    return r;
  }
  for (const auto& e : events_) {
    if (e.seq > last) r.events.push_back(e);
  }
  return r;
}

std::string ResetFrame(std::uint64_t newest) {
  return SseFrame("reset", std::to_string(newest),
                  FlatObject({{"reason", "events were missed: reload what you show"}}));
}

EventStreams::EventStreams(events::Bus* bus, EventStreamLimits limits)
    : limits_(limits), state_(State{EventRing(limits.ring, bus ? bus->NextSeq() : 1), {}, 0, false, false}) {
  if (bus) subscription_ = bus->Subscribe([this](const events::Event& e) { Published(e); });
}

EventStreams::~EventStreams() {
  Stop();
  subscription_.Reset();
}

void EventStreams::Start() {
  auto s = state_.Lock();
  if (!thread_.joinable() && !s->stop) thread_ = std::thread([this] { Loop(); });
}

void EventStreams::Published(const events::Event& event) {
  StreamedEvent streamed = StreamedOf(event);  // formatted before the lock, once for every client
  {
    auto s = state_.Lock();
    s->ring.Push(std::move(streamed));
    s->changed = true;
  }
  cv_.notify_all();
}

bool EventStreams::Follow(std::uint64_t last, std::string stack, std::unique_ptr<EventSink> sink) {
  {
    auto s = state_.Lock();
    if (s->stop || s->open >= limits_.max_streams) return false;
    s->clients.push_back({last, std::move(stack), std::move(sink), Clock::now(), Clock::now()});
    ++s->open;
    s->changed = true;
  }
  cv_.notify_all();
  return true;
}

bool EventStreams::Full() const {
  auto s = state_.Lock();
  return s->stop || s->open >= limits_.max_streams;
}

std::size_t EventStreams::Open() const { return state_.Lock()->open; }

std::uint64_t EventStreams::Newest() const { return state_.Lock()->ring.NextSeq() - 1; }

void EventStreams::Stop() {
  StopLoop(state_, cv_, thread_);
  auto s = state_.Lock();
  for (auto& c : s->clients) (void)c.sink->Write(": podcd is stopping\n\n", true);
  s->clients.clear();
  s->open = 0;
}

bool EventStreams::Advance(Client& c, const EventRing::Resume& resume, Clock::time_point now) {
  if (c.sink->Gone()) return false;  // its place is free for another client at once
  std::string out;
  if (resume.reset) out = ResetFrame(c.seen);
  for (const auto& e : resume.events) {
    if (e.Matches(c.stack)) out += *e.frame;
  }
  if (out.empty() && now - c.last_write >= limits_.heartbeat) out = ": heartbeat\n\n";
  if (out.empty() && now - c.last_touch < kTouch) return true;
  // Once a client holds more than its bound unsent, it has stopped keeping up: it is dropped
  // rather than buffered for without end (an EventSource reconnects and resumes).
  if (c.sink->Buffered() > limits_.max_buffered) {
    c.sink->Abort();
    metrics::Add("podcd_http_event_streams_dropped_total");
    log::Warn("event stream dropped: its client reads too slowly",
              {{"unsent_bytes", std::to_string(c.sink->Buffered())}});
    return false;
  }
  const bool said = !out.empty();
  if (!c.sink->Write(std::move(out), false)) return false;  // an empty write only touches
  if (said) c.last_write = now;
  c.last_touch = now;
  return true;
}

void EventStreams::Loop() {
  auto s = state_.Lock();
  while (!s->stop) {
    s->changed = false;
    // Taken out of the state while they are written to: publishing never waits on a client.
    std::vector<Client> clients = std::move(s->clients);
    s->clients.clear();
    std::vector<EventRing::Resume> resumes;
    resumes.reserve(clients.size());
    for (const auto& c : clients) resumes.push_back(s->ring.After(c.seen));
    const std::uint64_t newest = s->ring.NextSeq() - 1;
    std::size_t ended = 0;
    s.Unlocked([&] {
      const auto now = Clock::now();
      for (std::size_t i = 0; i < clients.size(); ++i) {
        if (resumes[i].reset) clients[i].seen = newest;
        const bool open = Advance(clients[i], resumes[i], now);
        clients[i].seen = newest;
        if (!open) {
          clients[i].sink.reset();
          ++ended;
        }
      }
    });
    for (auto& c : clients) {
      if (c.sink) s->clients.push_back(std::move(c));
    }
    s->open -= std::min(ended, s->open);
    s.WaitFor(cv_, std::min({kTick, kTouch, limits_.heartbeat}),
              [](const State& st) { return st.stop || st.changed; });
  }
}

}  // namespace podcd::http
