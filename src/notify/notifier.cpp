#include "notify/notifier.hpp"

#include <algorithm>
#include <filesystem>
#include <map>

#include "notify/formats.hpp"
#include "notify/wire.hpp"
#include "process/spawn.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"

namespace podcd::notify {
namespace {

constexpr const char* kMetric = "podcd_notifications_total";

std::filesystem::path MemoryFile(const std::string& state_dir) {
  return std::filesystem::path(state_dir) / "notify.json";
}

Memory LoadMemory(const std::string& state_dir) {
  auto text = ReadFile(MemoryFile(state_dir), 1u << 20);
  if (!text) return {};  // none yet (or unreadable: told afresh)
  auto m = MemoryFromJson(*text);
  if (!m) {
    log::Warn("the notifier's memory is unreadable; starting afresh",
              {{"file", MemoryFile(state_dir).string()}, {"error", m.error().What()}});
    return {};
  }
  return *m;
}

// Splits the child's stdout into result lines.
class ResultReader {
 public:
  explicit ResultReader(std::function<void(const SendResult&)> on_result)
      : on_result_(std::move(on_result)) {}
  void Append(std::string_view chunk) {
    buffer_.append(chunk);
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1)
      Line(std::string_view(buffer_).substr(start, nl - start));
    buffer_.erase(0, start);
  }
  void Finish() { Line(buffer_); }

 private:
  void Line(std::string_view line) {
    if (line.empty()) return;
    if (auto r = DecodeResult(line)) on_result_(*r);
  }
  std::function<void(const SendResult&)> on_result_;
  std::string buffer_;
};

// Reasons come masked from the workers (which know a stack's secrets); the daemon's own
// secrets (tokens, the webhook secret, targets' secrets) are masked here once more.
void Mask(Notice& n) {
  log::MaskSecrets(n.reason);
  log::MaskSecrets(n.actor);
  for (auto& s : n.stacks) log::MaskSecrets(s.reason);
}

}  // namespace

Notifier::Notifier(events::Bus& bus, state::Store& store, NotifierOptions options)
    : store_(store), options_(std::move(options)), teller_(LoadMemory(options_.state_dir)) {
  metrics::Describe(kMetric, "counter",
                    "Notices and commit statuses by target and result (sent, failed, dropped).");
  thread_ = std::thread([this] { Loop(); });
  subscription_ = bus.Subscribe([this](const events::Event& e) {
    // On the publisher's thread: a copy into a bounded queue, nothing more.
    if (e.kind == events::Kind::kQueued) return;
    {
      auto locked = state_.Lock();
      if (locked->events.size() >= options_.max_events) {
        locked->events.pop_front();
        metrics::Add(kMetric, {{"target", "events"}, {"result", "dropped"}});
      }
      locked->events.push_back(e);
    }
    cv_.notify_one();
  });
}

Notifier::~Notifier() { Stop(); }

void Notifier::Stop() {
  subscription_.Reset();
  *state_.Lock() = State{{}, true};
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Loop() {
  for (;;) {
    std::deque<events::Event> events;
    {
      auto locked = state_.Lock();
      locked.Wait(cv_, [](const State& s) { return s.stopping || !s.events.empty(); });
      if (locked->stopping) return;
      events.swap(locked->events);
    }
    for (const auto& e : events) Handle(e);
    while (!outgoing_.empty() && !Stopping()) SendBatch();
  }
}

std::string Notifier::PreviousCommit(const state::Deployment& d) {
  // Read from the history once; then each succeeded deployment's commit as it finishes.
  if (!last_commit_) {
    last_commit_.emplace();
    for (const auto& r : store_.List(50)) {
      if (r.id >= d.id || r.state != state::DeploymentState::kSucceeded || r.commit.empty()) continue;
      *last_commit_ = r.commit;
      break;
    }
  }
  return *last_commit_;
}

void Notifier::Handle(const events::Event& e) {
  const auto cfg = options_.config();
  Context ctx;
  ctx.public_url = cfg->http.public_url;
  if (e.kind != events::Kind::kStack && e.kind != events::Kind::kStackStarted)
    ctx.previous_commit = PreviousCommit(e.deployment);
  Told told = teller_.OnEvent(e, ctx);
  if (e.kind == events::Kind::kFinished && e.deployment.state == state::DeploymentState::kSucceeded &&
      !e.deployment.commit.empty())
    last_commit_ = e.deployment.commit;
  for (auto& n : told.notices) Mask(n);
  for (auto& n : told.forge) Mask(n);
  if (told.memory_changed) {
    if (auto r = WriteFileAtomic(MemoryFile(options_.state_dir), ToJson(teller_.memory())); !r)
      log::Warn("cannot save the notifier's memory", {{"error", r.error().What()}});
  }
  for (const auto& notice : told.notices) {
    for (const auto& target : cfg->notify) {
      auto mine = ForTarget(target, notice);
      if (!mine) continue;
      if (auto out = Render(target, *mine)) Push(std::move(*out));
    }
  }
  if (!cfg->forge.type.empty()) {
    for (const auto& notice : told.forge) {
      for (auto& out : ForgeStatuses(cfg->forge, notice)) {
        out.target = "forge";
        Push(std::move(out));
      }
    }
  }
}

void Notifier::Push(Outgoing out) {
  if (outgoing_.size() >= options_.max_requests) {
    Count(outgoing_.front().out.target, "dropped");
    log::Warn("a notice was dropped: too many waiting", {{"target", outgoing_.front().out.target}});
    outgoing_.pop_front();
  }
  outgoing_.push_back({next_id_++, std::move(out)});
}

void Notifier::Count(const std::string& target, const char* result) {
  metrics::Add(kMetric, {{"target", target}, {"result", result}});
}

void Notifier::SendBatch() {
  std::map<std::uint64_t, std::string> waiting;  // id -> target
  std::string input;
  while (!outgoing_.empty() && waiting.size() < options_.batch) {
    auto& q = outgoing_.front();
    waiting[q.id] = q.out.target;
    input += EncodeRequest({q.id, std::move(q.out)});
    input += '\n';
    outgoing_.pop_front();
  }
  ResultReader reader([&](const SendResult& r) {
    auto it = waiting.find(r.id);
    if (it == waiting.end()) return;
    const std::string target = it->second;
    waiting.erase(it);
    Count(target, r.sent ? "sent" : "failed");
    if (r.sent) {
      log::Debug("notification sent", {{"target", target}, {"status", std::to_string(r.status)}});
      return;
    }
    log::Warn("notification not sent",
              {{"target", target},
               {r.status != 0 ? "status" : "error", r.status != 0 ? std::to_string(r.status) : r.error},
               {"tries", std::to_string(r.tries)}});
  });
  process::Spec spec;
  spec.argv = {options_.binary};
  spec.argv.insert(spec.argv.end(), options_.global_args.begin(), options_.global_args.end());
  spec.argv.emplace_back("__notify");
  // The child needs no configuration: its variables (secrets among them) stay out of it.
  for (const auto& key : config::DescribeKeys())
    for (const auto& name : key.env) spec.env_remove.push_back(name);
  spec.env_remove.emplace_back("PODCD_CONFIG");
  spec.input = std::move(input);
  spec.capture_stderr = false;
  spec.timeout = options_.child_timeout;
  spec.max_output_bytes = std::size_t{1} << 20;
  spec.on_output = [&](std::string_view chunk) { reader.Append(chunk); };
  spec.stop_requested = [this] { return Stopping(); };
  auto ended = process::Run(spec);
  reader.Finish();
  const std::string how = ended ? process::DescribeExit(*ended) : ended.error().What();
  for (const auto& [id, target] : waiting) {
    Count(target, "failed");
    log::Warn("notification not sent",
              {{"target", target}, {"error", "the sender ended without a result: " + how}});
  }
}

}  // namespace podcd::notify
