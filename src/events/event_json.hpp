// One deployment event as JSON: the `data:` of GET /events (and anything else that wants the
// same shape). The record's own writers make its trigger and stack outcomes, so an event's
// parts read as they do in GET /deployments/<id>.
#pragma once

#include <string>

#include "events/bus.hpp"

namespace podcd::events {

// {"seq":..,"kind":"queued|started|stack-started|stack|finished","deployment":ID,"state":..,
//  "commit":..,"reason":..,["superseded_by":..,]"trigger":{record trigger},
//  "stacks":[outcomes so far],["stack":{name,outcome,reason,duration_ms} for kStack,]
//  ["stack":{name} for kStackStarted,]
//  "queued_at":RFC 3339,"started_at":..,"finished_at":.. ("" when not yet)}
std::string ToJson(const Event& event);

}  // namespace podcd::events
