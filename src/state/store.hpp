// Durable deployment history and the set of seen webhook delivery ids, in the state directory.
// Layout: <dir>/deployments/<id>.json (one record per file, atomic writes) and
// <dir>/deliveries.log (append-only "epoch_ms delivery_id deployment_id" lines, compacted).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "state/deployment.hpp"
#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::state {

struct StoreOptions {
  std::size_t max_history = 500;  // finished records kept (oldest removed)
  std::size_t max_delivery_ids = 10000;
  std::chrono::milliseconds delivery_ttl = std::chrono::hours(24);
  // Left `running` by Open(): a deployment another process finishes (a pending self-update).
  std::string keep_running;
};

// Thread-safe. Every method may be called from any thread.
class Store {
 public:
  // Creates the directories, loads the records and delivery ids, and marks every record a
  // crash left `queued` or `running` as `failed` with reason "interrupted".
  static Expected<std::unique_ptr<Store>> Open(const std::filesystem::path& dir, StoreOptions options = {});

  // A new unique, time-ordered id such as "20261121-235709-000001".
  std::string NewId();

  // Stores (replaces) a record in memory and on disk.
  Expected<void> Save(const Deployment& d);
  // Updates a record in memory only (log lines during a run); Save() persists.
  void UpdateInMemory(const Deployment& d);

  std::optional<Deployment> Get(const std::string& id) const;
  // Newest first.
  std::vector<Deployment> List(std::size_t limit) const;

  // The deployment a delivery id was first answered with, if it was seen within the TTL.
  std::optional<std::string> FindDelivery(const std::string& delivery_id) const;
  Expected<void> RememberDelivery(const std::string& delivery_id, const std::string& deployment_id);
  std::size_t DeliveryCount() const;

  // How many records Open() found interrupted.
  std::size_t InterruptedOnOpen() const { return interrupted_on_open_; }

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

 private:
  Store(std::filesystem::path dir, StoreOptions options);
  struct Delivery {
    std::int64_t at_ms = 0;
    std::string id;
    std::string deployment;
  };
  // What the lock guards: the records and delivery ids in memory and the delivery file.
  struct Data {
    std::map<std::string, Deployment> records;  // id order == creation order
    std::deque<Delivery> delivery_order;        // oldest first
    std::unordered_map<std::string, std::string> deliveries;
    int delivery_fd = -1;
    std::size_t delivery_lines = 0;  // lines in the file, compaction when > 2x capacity
    std::uint64_t sequence = 0;
  };

  Expected<void> Load(Data& data);
  Expected<void> LoadDeliveries(Data& data);
  Expected<void> CompactDeliveries(Data& data);
  void Prune(Data& data);
  void ExpireDeliveries(Data& data, std::int64_t now_ms);

  const std::filesystem::path dir_;
  const StoreOptions options_;
  Guarded<Data> data_;
  std::size_t interrupted_on_open_ = 0;  // set by Open() only
};

}  // namespace podcd::state
