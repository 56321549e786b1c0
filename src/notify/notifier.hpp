// The daemon's notifier: hears the deployment events on the bus, decides what to tell
// (notices.hpp), shapes each notice for each target and the forge (formats.hpp), and hands the
// requests to a `podcd __notify` child, which alone links libcurl. Never slows a deployment:
// the bus handler only copies the event into a bounded queue; a thread of its own does the rest.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "events/bus.hpp"
#include "notify/message.hpp"
#include "notify/notices.hpp"
#include "state/store.hpp"
#include "util/guarded.hpp"

namespace podcd::notify {

struct NotifierOptions {
  // `podcd` (and its global options, logging only) to run as `podcd __notify`.
  std::string binary;
  std::vector<std::string> global_args;
  // The memory of what was told: <state_dir>/notify.json.
  std::string state_dir;
  // The configuration as it is now (SIGHUP changes targets, forge and public URL).
  std::function<std::shared_ptr<const config::Config>()> config;
  // Events waiting to be read, and requests waiting to be sent: past either bound the oldest
  // goes (a request's target counts it `dropped`).
  std::size_t max_events = 1024;
  std::size_t max_requests = 256;
  // Requests handed to one child, and the hard limit on it (three tries of 5 s, 1.5 s apart).
  std::size_t batch = 32;
  std::chrono::milliseconds child_timeout{30'000};
};

class Notifier {
 public:
  // Subscribes to `bus` at once; `store` answers previous_commit. Both outlive the notifier.
  Notifier(events::Bus& bus, state::Store& store, NotifierOptions options);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Stops hearing events, ends a child that is sending (SIGTERM) and joins the thread. Idempotent.
  void Stop();

 private:
  struct Queued {
    std::uint64_t id = 0;
    Outgoing out;
  };
  struct State {
    std::deque<events::Event> events;
    bool stopping = false;
  };

  void Loop();
  void Handle(const events::Event& e);
  void Push(Outgoing out);
  void SendBatch();
  // The commit of the last succeeded deployment before `d`.
  std::string PreviousCommit(const state::Deployment& d);
  void Count(const std::string& target, const char* result);
  bool Stopping() { return state_.Lock()->stopping; }

  state::Store& store_;
  const NotifierOptions options_;
  Teller teller_;
  std::deque<Queued> outgoing_;  // the notifier thread's own
  std::uint64_t next_id_ = 1;
  std::optional<std::string> last_commit_;  // unset until read from the history
  Guarded<State> state_;
  std::condition_variable cv_;
  events::Bus::Subscription subscription_;
  std::thread thread_;
};

}  // namespace podcd::notify
