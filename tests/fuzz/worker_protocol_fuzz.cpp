// libFuzzer target over the daemon <-> worker messages (worker/protocol.hpp): a request as a
// worker reads it from stdin, an event line as the daemon reads it from a worker's stdout.
// Properties: what decodes encodes to a text that decodes to the same thing (round trip); an
// event the daemon applies, written again by the worker's side, is applied the same way; a log
// line comes back as written (after UTF-8 repair).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reconcile/queue.hpp"
#include "util/json_text.hpp"
#include "worker/protocol.hpp"

using namespace podcd;

namespace {

void Check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) {
    std::fprintf(stderr, "property broken: %s [%.*s]\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
  }
}

// Records what an event did, as the text the worker's side would write for it.
class Recorder final : public reconcile::RunContext {
 public:
  std::string Id() const override { return "fuzz"; }
  void Log(std::string line) override {
    seen.push_back(worker::LogEvent(line));
    logs.push_back(std::move(line));
  }
  void SetCommit(std::string commit) override { seen.push_back(worker::CommitEvent(commit)); }
  void SetStackOutcome(state::StackOutcome outcome) override { seen.push_back(worker::StackEvent(outcome)); }
  bool StopRequested() const override { return false; }
  void HandOver() override { seen.push_back(worker::HandOverEvent()); }
  std::vector<std::string> seen;
  std::vector<std::string> logs;
};

void Requests(std::string_view in) {
  auto r = worker::DecodeRequest(in);
  if (!r) {
    Check(!r.error().message.empty(), "a refusal says why");
    return;
  }
  const std::string once = worker::EncodeRequest(*r);
  auto again = worker::DecodeRequest(once);
  Check(again.has_value(), "an encoded request decodes", once);
  Check(worker::EncodeRequest(*again) == once, "a request round-trips", once);
}

void Stacks(std::string_view in) {
  auto s = worker::DecodeStacks(in);
  if (!s) return;
  const std::string once = worker::EncodeStacks(*s);
  auto again = worker::DecodeStacks(once);
  Check(again.has_value(), "encoded stacks decode", once);
  Check(worker::EncodeStacks(*again) == once, "stacks round-trip", once);
}

void Events(std::string_view in) {
  // A worker's metrics land in the daemon's registry, which keeps every name it is given: the
  // fuzzer's names would only grow it (a worker is podcd's own binary, not a stranger).
  if (in.find("metric") != std::string_view::npos) return;
  Recorder first;
  auto applied = worker::ApplyEvent(in, first);
  if (!applied) return;
  Check(first.seen.size() <= 1, "one event, at most one call");
  if (first.seen.empty()) return;
  Recorder second;
  auto again = worker::ApplyEvent(first.seen.front(), second);
  Check(again.has_value(), "a written event applies", first.seen.front());
  Check(second.seen == first.seen, "an event round-trips", first.seen.front());
}

void LogLines(std::string_view in) {
  Recorder r;
  auto applied = worker::ApplyEvent(worker::LogEvent(in), r);
  Check(applied.has_value() && r.logs.size() == 1, "a log event applies");
  Check(r.logs.front() == json::ValidUtf8(in), "a log line comes back as written", in);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: Requests(in); break;
    case 1: Stacks(in); break;
    case 2: Events(in); break;
    case 3: LogLines(in); break;
  }
  return 0;
}
