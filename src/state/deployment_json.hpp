// The JSON of a deployment record's parts, shared by the record files (state/deployment.cpp)
// and the daemon's worker protocol (worker/protocol.cpp), so both speak one format.
#pragma once

#include "state/deployment.hpp"
#include "util/json.hpp"

namespace podcd::state {

// {"kind":...,"event":...,"delivery_id":...,["stack":... when exactly one,]"stacks":[...],
//  "all_changed":...,"pull":...,"force":...,"actor":...}
void WriteTrigger(json::Writer& w, const Trigger& t);
Trigger ReadTrigger(const rapidjson::Value& o);  // missing or mistyped fields read as empty

// {"name":...,"outcome":...,"reason":...,"duration_ms":...[,"images_removed":N,"image_bytes_freed":N]}
void WriteStackOutcome(json::Writer& w, const StackOutcome& s);
StackOutcome ReadStackOutcome(const rapidjson::Value& o);

}  // namespace podcd::state
