#include "http/delivery_log.hpp"

#include <algorithm>

#include "util/json_text.hpp"

namespace podcd::http {
namespace {

// Header values are the client's: kept short in memory and in every answer.
std::string Capped(std::string text, std::size_t max) {
  if (text.size() > max) text.resize(max);
  return text;
}

}  // namespace

void DeliveryLog::Record(DeliveryEntry entry) {
  entry.client = Capped(std::move(entry.client), 64);
  entry.path = Capped(std::move(entry.path), 200);
  entry.event = Capped(std::move(entry.event), 64);
  entry.delivery = Capped(std::move(entry.delivery), 200);
  entry.reason = Capped(std::move(entry.reason), 300);
  auto entries = entries_.Lock();
  entries->push_back(std::move(entry));
  while (entries->size() > capacity_) entries->pop_front();
}

std::vector<DeliveryEntry> DeliveryLog::Recent(std::size_t limit) const {
  auto entries = entries_.Lock();
  const std::size_t n = std::min(limit, entries->size());
  return {entries->rbegin(), entries->rbegin() + static_cast<std::ptrdiff_t>(n)};
}

std::string DeliveriesBody(const std::vector<DeliveryEntry>& entries) {
  std::string out = "{\"deliveries\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (i > 0) out += ",";
    out += "{\"at_ms\":" + std::to_string(e.at_ms) + ",\"client\":" + json::Quoted(e.client) +
           ",\"path\":" + json::Quoted(e.path) + ",\"event\":" + json::Quoted(e.event) +
           ",\"delivery\":" + json::Quoted(e.delivery) + ",\"status\":" + std::to_string(e.status) +
           ",\"outcome\":" + json::Quoted(e.outcome) + ",\"reason\":" + json::Quoted(e.reason) +
           ",\"deployment\":" + json::Quoted(e.deployment) + "}";
  }
  out += "]}";
  return out;
}

}  // namespace podcd::http
