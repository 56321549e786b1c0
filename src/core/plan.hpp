// core::Plan: the pure comparison of the desired state (the repo) with the actual state
// (podcd's labelled containers on the host), per stack and per service, with reasons.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::core {

// Labels podcd puts on every container it creates; the host, not a file, is the truth.
inline constexpr std::string_view kLabelStack = "io.podcd.stack";
inline constexpr std::string_view kLabelService = "io.podcd.service";
inline constexpr std::string_view kLabelFingerprint = "io.podcd.fingerprint";
inline constexpr std::string_view kLabelFields =
    "io.podcd.fields";  // per-field keyed hashes, see EncodeFieldHashes
// The entry of io.podcd.fields that names the key of its hashes (reconcile/field_key.hpp): two
// sides' hashes are compared only under the same key. Labels written before it (unkeyed
// FNV-1a) have none.
inline constexpr std::string_view kFieldKeyId = "@key";
inline constexpr std::string_view kLabelCommit = "io.podcd.commit";
inline constexpr std::string_view kLabelDeployment = "io.podcd.deployment";
inline constexpr std::string_view kLabelTemporary = "io.podcd.temporary";  // "true" while being replaced
inline constexpr std::string_view kLabelComposeProject = "com.docker.compose.project";
inline constexpr std::string_view kLabelComposeService = "com.docker.compose.service";

// Suffix of a new container's name while it replaces the old one (renamed after success); an
// interrupted run leaves it behind (ActualContainer::temporary) for the next one to finish.
inline constexpr std::string_view kTemporarySuffix = "_podcd-next";
// An old container that Podman would not remove once its stack committed: kept stopped under
// this name, a leftover that the next run removes.
inline constexpr std::string_view kRetiredSuffix = "_podcd-old";
// True for both: a container under either name is not its service's container.
bool IsTemporaryName(std::string_view name);
bool IsRetiredName(std::string_view name);
std::string TemporaryName(std::string_view final_name);
std::string RetiredName(std::string_view final_name);
std::string FinalName(std::string_view temporary_name);

// One service as the repo wants it.
struct DesiredService {
  std::string name;
  std::string fingerprint;
  // Field name ("image", "environment.FOO", "file services/web/nginx.conf") -> short keyed hash
  // of its canonical value, plus kFieldKeyId; used only to explain a fingerprint change.
  std::map<std::string, std::string> field_hashes;
  // Services whose recreation recreates this one (depends_on with restart: true, and the
  // target of network_mode: service:<name>, whose network namespace this one joins).
  std::vector<std::string> recreate_with;
  std::string restart = "no";  // the service's restart policy
};

enum class StackStatus { kOk, kInvalid, kRefused };

// One stack as the repo wants it: loaded, or invalid (parse errors), or refused (policy).
struct DesiredStack {
  std::string name;
  StackStatus status = StackStatus::kOk;
  std::vector<std::string> problems;  // errors or policy violations, for invalid/refused
  std::vector<DesiredService> services;
  // Services of the compose file that its profiles leave out (core::Stack::disabled): their
  // containers are removed like those of deleted services, with that reason.
  std::vector<std::string> disabled;
  // What the stack's files ask and podcd does not act on (core::Stack::notes), for the plan.
  std::vector<std::string> notes;
};

// One podcd-labelled container on the host.
struct ActualContainer {
  std::string id;
  std::string name;
  std::string stack;
  std::string service;
  std::string fingerprint;
  std::string commit;
  std::string deployment;                           // io.podcd.deployment: the run that created it
  std::map<std::string, std::string> field_hashes;  // decoded io.podcd.fields
  bool temporary = false;
  bool running = false;
  std::string status;  // Podman's state: running, exited, created, ...
  int exit_code = 0;
  std::string health;  // the last healthcheck's verdict: healthy, unhealthy, starting; "" for none
  std::string image;   // the image it was created from, as Podman names it (the dashboard shows it)
};

enum class Action { kCreate, kRecreate, kUnchanged, kRemove, kRefused, kInvalid };
std::string_view ToString(Action action);

struct ServicePlan {
  std::string name;
  Action action = Action::kUnchanged;
  std::vector<std::string> reasons;
  std::vector<std::string> containers;  // ids of the existing containers of this service
};

struct StackPlan {
  std::string name;
  Action action = Action::kUnchanged;
  std::vector<std::string> reasons;
  std::vector<ServicePlan> services;   // desired services first (sorted), then orphans
  std::vector<std::string> leftovers;  // ids of temporary containers of an interrupted deployment
  // Keys accepted and ignored ("services.web.develop: ignored (...)"): shown, not work.
  std::vector<std::string> notes;

  // Something to create or recreate here, or leftovers to clean up (removal is apart: it
  // depends on prune).
  [[nodiscard]] bool NeedsApply() const;
};

struct PlanResult {
  std::vector<StackPlan> stacks;  // sorted by name
  // True when any stack is create, recreate or remove (refused and invalid are reported, not work).
  [[nodiscard]] bool HasWork() const;
  [[nodiscard]] const StackPlan* Find(std::string_view stack) const;
};

// Pure: the same inputs always give the same plan.
PlanResult Plan(const std::vector<DesiredStack>& desired, const std::vector<ActualContainer>& actual);

// `podcd plan --json`: {"commit", "stacks": [{"name", "action", "reasons", "notes", "services":
// [{"name", "action", "reasons"}]}]} ("notes" only when there are some), valid JSON and UTF-8 whatever bytes
// a reason quotes.
std::string ToJson(const PlanResult& plan, std::string_view commit);

// The io.podcd.fields label: "name=hash;name=hash" with ';', '=' and '%' in names escaped.
std::string EncodeFieldHashes(const std::map<std::string, std::string>& fields);
std::map<std::string, std::string> DecodeFieldHashes(std::string_view text);

}  // namespace podcd::core
