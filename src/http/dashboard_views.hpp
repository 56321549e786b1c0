// What the dashboard's pages show, read off the daemon's own records: deployments, stacks as the
// catalog sees them, webhook deliveries. Pure conversions into the web/ views.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/catalog.hpp"
#include "http/delivery_log.hpp"
#include "state/deployment.hpp"
#include "web/deliveries_page.hpp"
#include "web/deployment_page.hpp"
#include "web/deployments_page.hpp"
#include "web/stack_page.hpp"
#include "web/stacks_page.hpp"

namespace podcd::http {

web::DeploymentSummary SummaryOf(const state::Deployment& d);
web::DeploymentView DeploymentViewOf(const state::Deployment& d, std::int64_t now_ms);
std::vector<web::ServiceView> ServicesOf(const StackInfo& info);
// A stack's row on the front page; `last` is its last deployment's record, when there is one.
web::StackView StackViewOf(const StackInfo& info, const state::Deployment* last);
web::StackPageView StackPageOf(const StackInfo& info, const std::vector<state::Deployment>& recent,
                               std::int64_t now_ms);
web::DeliveryView DeliveryViewOf(const DeliveryEntry& e);

// Whether a record passes the deployments page's filters (each "" passes everything; the stack
// must be one the record names or touched; the actor matches as a prefix, "user:" for all users).
bool Matches(const state::Deployment& d, const web::DeploymentFilter& filter);

}  // namespace podcd::http
