#include "http/log_stream.hpp"

#include "http/answers.hpp"

namespace podcd::http {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTick = std::chrono::milliseconds(250);
// A comment line now and then: proxies and browsers keep a quiet stream open.
constexpr auto kKeepAlive = std::chrono::seconds(15);

}  // namespace

std::string SseFrame(std::string_view event, std::string_view id, std::string_view data) {
  std::string out;
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  // One `data:` field per line (a log line never holds a newline, but a record might).
  for (;;) {
    const auto nl = data.find_first_of("\r\n");
    out.append("data: ").append(data.substr(0, nl)).append("\n");
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out += "\n";
  return out;
}

std::string EventsOf(const state::Deployment& d, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < d.log.size(); ++i) out += SseFrame("", std::to_string(i), d.log[i]);
  if (state::IsFinished(d.state)) out += SseFrame("end", "", state::ToString(d.state));
  return out;
}

LogStreams::LogStreams(state::Store& store, std::size_t max_streams)
    : store_(store), max_streams_(max_streams) {}

LogStreams::~LogStreams() { Stop(); }

void LogStreams::Start() {
  auto s = state_.Lock();
  if (!thread_.joinable() && !s->stop) thread_ = std::thread([this] { Loop(); });
}

bool LogStreams::Follow(std::string id, std::size_t from, std::unique_ptr<EventSink> sink) {
  {
    auto s = state_.Lock();
    if (s->stop || s->followers.size() >= max_streams_) return false;
    s->followers.push_back({std::move(id), from, std::move(sink), Clock::now(), Clock::now()});
  }
  cv_.notify_all();
  return true;
}

bool LogStreams::Full() const {
  auto s = state_.Lock();
  return s->stop || s->followers.size() >= max_streams_;
}

void LogStreams::Stop() {
  StopLoop(state_, cv_, thread_);
  auto s = state_.Lock();
  for (auto& f : s->followers) (void)f.sink->Write(": podcd is stopping\n\n", true);
  s->followers.clear();
}

bool LogStreams::Advance(Follower& f) {
  auto d = store_.Get(f.id);
  if (!d) {
    (void)f.sink->Write("event: end\ndata: gone\n\n", true);
    return false;
  }
  const std::string events = EventsOf(*d, f.next);
  const bool finished = state::IsFinished(d->state);
  f.next = std::max(f.next, d->log.size());
  const auto now = Clock::now();
  if (!events.empty() || finished || now - f.last_write >= kKeepAlive) {
    if (!f.sink->Write(events.empty() ? std::string(": keep-alive\n\n") : events, finished)) return false;
    f.last_write = now;
    f.last_touch = now;
  } else if (now - f.last_touch >= kTouch) {
    if (!f.sink->Write({}, false)) return false;
    f.last_touch = now;
  }
  return !finished;
}

void LogStreams::Loop() {
  auto s = state_.Lock();
  while (!s->stop) {
    // Taken out of the state while they are written to: Follow() never waits on a slow client.
    std::vector<Follower> followers = std::move(s->followers);
    s->followers.clear();
    s.Unlocked([&] { std::erase_if(followers, [&](Follower& f) { return !Advance(f); }); });
    for (auto& f : followers) s->followers.push_back(std::move(f));
    s.WaitFor(cv_, kTick, [](const State& st) { return st.stop; });
  }
}

}  // namespace podcd::http
