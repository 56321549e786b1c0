// BASE/deliveries: the recent webhook deliveries, accepted and rejected, with the reason and
// the deployment they queued; never a body.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "web/page.hpp"

namespace podcd::web {

struct DeliveryView {
  std::int64_t time_ms = 0;
  std::string client;       // the client's address
  std::string path;         // the webhook path it was sent to
  std::string event;        // X-GitHub-Event or its kin, may be ""
  std::string delivery_id;  // X-GitHub-Delivery or its kin, may be ""
  bool accepted = false;
  std::string reason;      // why it was rejected (or what an accepted one did), may be ""
  std::string deployment;  // the id it queued or joined, "" for none
};

struct DeliveriesView {
  std::vector<DeliveryView> deliveries;  // newest first
  std::int64_t now_ms = 0;
};

std::string RenderDeliveries(const PageContext& ctx, const DeliveriesView& view);

}  // namespace podcd::web
