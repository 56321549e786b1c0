// What the server asks the daemon about: which stacks exist, what GET /stacks shows, /health.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/controls.hpp"
#include "util/error.hpp"

namespace podcd::http {

// A stack's service with its container as Podman shows it ("" container: none).
struct ServiceInfo {
  std::string name;
  std::string container;
  std::string status;
  std::string health;
  std::string image;
};

// One reason of the stack's plan (worker::PlanChange): a field with its old and new value where
// podcd knows them (nullopt: it cannot), or a reason without a field in `change`.
struct ChangeInfo {
  std::string service;
  std::string field;
  std::string change;
  std::optional<std::string> old_value;
  std::optional<std::string> new_value;
};

// One row of GET /stacks (filled by the daemon's catalog from the live containers).
struct StackInfo {
  std::string name;
  std::string commit;
  std::string fingerprint;
  std::string state = "unknown";  // in-sync, changed, drifted, failed (unknown until the engine)
  std::string last_deployment;
  std::vector<ServiceInfo> services{};
  std::vector<std::string> reasons{};  // the plan's, masked
  std::vector<ChangeInfo> changes{};
  std::vector<std::string> notes{};  // keys podcd accepts and ignores, named by the plan, masked
  // Set by an operator (state/controls.hpp); `state` then says "suspended" or "pinned".
  // (Default member initializers: brace-initialised rows that leave them out stay warning-free.)
  std::optional<state::Suspension> suspended = std::nullopt;
  std::optional<state::Pin> pinned = std::nullopt;
};

// Which stacks exist (404 vs 202) and what GET /stacks shows (503 with the error when the
// stacks cannot be observed).
class StackCatalog {
 public:
  virtual ~StackCatalog() = default;
  [[nodiscard]] virtual bool Exists(std::string_view name) = 0;
  [[nodiscard]] virtual Expected<std::vector<StackInfo>> List() = 0;
};

// The stacks are the directories with a valid stack name under <repo>/<services_dir>.
class DirectoryCatalog final : public StackCatalog {
 public:
  explicit DirectoryCatalog(std::string services_root) : root_(std::move(services_root)) {}
  bool Exists(std::string_view name) override;
  Expected<std::vector<StackInfo>> List() override;

 private:
  std::string root_;
};

// GET /health: every problem found (empty = healthy).
class HealthProbe {
 public:
  virtual ~HealthProbe() = default;
  [[nodiscard]] virtual std::vector<std::string> Problems() = 0;
};

}  // namespace podcd::http
