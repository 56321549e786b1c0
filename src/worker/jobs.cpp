// The worker processes of the daemon (worker/protocol.hpp): `podcd __run` runs one deployment,
// `podcd __stacks` observes the stacks for GET /stacks, `podcd __close-handover` closes a
// pending self-update. Each reads its request on stdin and writes events on stdout.
#include "worker/jobs.hpp"
#include "worker/remote_check.hpp"

#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

#include "cli/common.hpp"
#include "podman/auth.hpp"
#include "podman/client.hpp"
#include "process/spawn.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/self_update.hpp"
#include "util/guarded.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"
#include "worker/job_steps.hpp"
#include "worker/load_image.hpp"
#include "worker/protocol.hpp"

namespace podcd::worker {
namespace {

using cli::Args;
using cli::GlobalOptions;

std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int /*sig*/) { g_stop.store(true); }

// The event stream to the daemon: one whole line at a time, whichever thread writes.
Guarded<std::FILE*> g_out{stdout};
void Emit(const std::string& line) {
  auto out = g_out.Lock();
  std::fwrite(line.data(), 1, line.size(), *out);
  std::fputc('\n', *out);
  std::fflush(*out);
}

// The RunContext of a worker: every call becomes an event line for the daemon. Masked here,
// before the JSON is written: the daemon's list lacks what only the worker read.
class EventContext final : public reconcile::RunContext {
 public:
  explicit EventContext(std::string id) : id_(std::move(id)) {}
  std::string Id() const override { return id_; }
  void Log(std::string line) override { Emit(LogEvent(log::Masked(std::move(line)))); }
  void SetCommit(std::string commit) override { Emit(CommitEvent(commit)); }
  void SetStackOutcome(state::StackOutcome outcome) override {
    log::MaskSecrets(outcome.reason);
    Emit(StackEvent(outcome));
  }
  void StackStarted(const std::string& stack) override { Emit(StackStartedEvent(stack)); }
  bool StopRequested() const override { return g_stop.load(); }
  void HandOver() override { Emit(HandOverEvent()); }

 private:
  std::string id_;
};

// Registry passwords are masked from the job's start, whatever it pulls: the daemon cannot read
// them (it links no Podman client), and a container may print one before any pull names it.
void MaskRegistrySecrets(const config::Config& cfg) {
  std::string path = cfg.podman.auth_file;
  if (const char* env = std::getenv("REGISTRY_AUTH_FILE"); path.empty() && env != nullptr) path = env;
  if (path.empty()) return;
  auto text = ReadFile(path, 1u << 20);
  if (!text) return;
  auto entries = podman::ReadAuthEntries(*text);
  if (!entries) return;
  for (const auto& e : *entries) {
    log::AddSecret(e.credentials.password);
    log::AddSecret(e.credentials.identity_token);
  }
}

// What every worker does first: stop on SIGTERM, forward metrics, read the request, rebuild the
// daemon's configuration. nullopt after the failure was emitted as the result.
struct Job {
  Request request;
  std::shared_ptr<const config::Config> config;
};
std::optional<Job> StartJob(const GlobalOptions& g) {
  process::ExitOnAllocationFailure();  // the launcher names the memory limit then
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  // The daemon spawns workers with these blocked: one sent before this point is delivered now.
  const sigset_t stops = process::StopSignals();
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A daemon that dies (SIGKILL) takes its worker down at the next safe point, so that the
  // next daemon never works beside an orphan.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  metrics::SetForwarder([](metrics::Kind kind, std::string_view name, const metrics::Labels& labels,
                           double v) { Emit(MetricEvent(kind, name, labels, v)); });
  std::string text((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  auto request = DecodeRequest(text);
  if (!request) {
    Emit(ResultEvent(std::unexpected(request.error())));
    return std::nullopt;
  }
  if (request->daemon_version != PODCD_VERSION) {
    Emit(ResultEvent(
        Fail(ErrorCode::kInvalidArgument,
             "this worker is podcd " + std::string(PODCD_VERSION) + " and the daemon is podcd-serve " +
                 (request->daemon_version.empty() ? "of an older version" : request->daemon_version) +
                 ": after installing a new podcd, restart the daemon (systemctl restart podcd)")));
    return std::nullopt;
  }
  for (auto& s : request->secrets) log::AddSecret(std::move(s));
  auto cfg = LoadSnapshot(request->config);
  if (!cfg) {
    std::string all;
    for (const auto& e : cfg.error()) all += (all.empty() ? "" : "; ") + e.What();
    Emit(ResultEvent(Fail(ErrorCode::kInvalidArgument, all, "configuration")));
    return std::nullopt;
  }
  cli::ApplyLogOptions(g, *cfg);
  log::Configure(cfg->log.format, cfg->log.level);
  MaskRegistrySecrets(*cfg);
  return Job{std::move(*request), std::make_shared<const config::Config>(std::move(*cfg))};
}

// Runs `body` with the engine of the job's configuration; its result is the last event.
template <typename Body>
int RunJob(const GlobalOptions& g, const Args& args, const char* name, Body&& body) {
  if (!args.empty()) {
    std::fprintf(stderr, "podcd %s: takes no arguments (run by the daemon)\n", name);
    return cli::kExitUsage;
  }
  auto job = StartJob(g);
  if (!job) return cli::kExitFailure;
  Expected<void> result;
  try {
    reconcile::PodmanRuntime runtime(podman::OptionsFromConfig(*job->config));
    reconcile::Engine engine(job->config, reconcile::ChildProcessSync(), runtime, reconcile::RealClock());
    if (auto own = reconcile::OwnContainerId()) engine.SetOwnContainer(*own);
    result = body(*job, runtime, engine);
  } catch (const std::exception& e) {
    result = Fail(ErrorCode::kInternal, std::string(name) + " threw: " + e.what());
  }
  if (!result) {
    log::MaskSecrets(result.error().message);
    log::MaskSecrets(result.error().context);
  }
  Emit(ResultEvent(result));
  return result ? cli::kExitOk : cli::kExitFailure;
}

}  // namespace

int RunDeployment(const GlobalOptions& g, const Args& args) {
  return RunJob(g, args, "__run", [](const Job& job, reconcile::Runtime&, reconcile::Engine& engine) {
    EventContext ctx(job.request.id);
    return engine.Run(job.request.trigger, ctx);
  });
}

int RunStacks(const GlobalOptions& g, const Args& args) {
  return RunJob(g, args, "__stacks",
                [](const Job&, reconcile::Runtime&, reconcile::Engine& engine) -> Expected<void> {
                  auto stacks = ObserveStacks(engine);
                  if (!stacks) return std::unexpected(stacks.error());
                  Emit(DataEvent(EncodeStacks(*stacks)));
                  return {};
                });
}

int RunLoadImage(const GlobalOptions& g, const Args& args) {
  return RunJob(
      g, args, "__load-image", [](const Job& job, reconcile::Runtime&, reconcile::Engine&) -> Expected<void> {
        if (job.request.trigger.stacks.size() != 1 || job.request.id.empty())
          return Fail(ErrorCode::kInvalidArgument, "__load-image needs a stack and an archive");
        podman::Client client(podman::OptionsFromConfig(*job.config));
        auto answer =
            LoadUploadedImage(*job.config, client, job.request.trigger.stacks.front(), job.request.id);
        if (!answer) return std::unexpected(answer.error());
        Emit(DataEvent(EncodeLoadAnswer(*answer)));
        return {};
      });
}

int RunRemoteHead(const GlobalOptions& g, const Args& args) {
  return RunJob(g, args, "__remote-head",
                [](const Job& job, reconcile::Runtime&, reconcile::Engine&) -> Expected<void> {
                  auto state = CheckRemote(job.config->repo);
                  if (!state) return std::unexpected(state.error());
                  RecordRemoteState(*state);
                  return {};
                });
}

int RunCloseHandOver(const GlobalOptions& g, const Args& args) {
  return RunJob(g, args, "__close-handover",
                [](const Job& job, reconcile::Runtime& runtime, reconcile::Engine& engine) -> Expected<void> {
                  auto h = reconcile::ReadHandOver(job.config->state_dir);
                  if (!h) return std::unexpected(h.error());
                  if (!*h) return {};  // closed meanwhile: nothing to do
                  EventContext ctx(job.request.id);
                  return CloseHandOver(**h, *job.config, runtime, engine, ctx, g_stop);
                });
}

}  // namespace podcd::worker
