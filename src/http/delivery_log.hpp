// The recent webhook deliveries, accepted and rejected, for the dashboard and GET /deliveries:
// when, from whom, to which path, the event and delivery id, the answer and why. Never a body or
// a signature. In memory, the newest `capacity` only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "util/guarded.hpp"

namespace podcd::http {

struct DeliveryEntry {
  std::int64_t at_ms = 0;
  std::string client;
  std::string path;
  std::string event;
  std::string delivery;
  int status = 0;          // the HTTP status answered
  std::string outcome;     // queued, duplicate, ignored, pong, rejected
  std::string reason;      // why it was rejected or ignored
  std::string deployment;  // the deployment it started or joined
};

class DeliveryLog {
 public:
  explicit DeliveryLog(std::size_t capacity = 200) : capacity_(capacity) {}
  void Record(DeliveryEntry entry);
  // Newest first.
  [[nodiscard]] std::vector<DeliveryEntry> Recent(std::size_t limit) const;

 private:
  const std::size_t capacity_;
  mutable Guarded<std::deque<DeliveryEntry>> entries_;
};

// {"deliveries":[{...},...]}
std::string DeliveriesBody(const std::vector<DeliveryEntry>& entries);

}  // namespace podcd::http
