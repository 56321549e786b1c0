// Service fingerprints (pure): sha256 over a canonical form of the resolved service plus the
// digests of the repository files it references. Comments, key order and other stacks
// cannot change it; anything that changes the container does.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/model.hpp"

namespace podcd::core {

// Bumped whenever the canonical form changes (every fingerprint changes with it).
inline constexpr std::string_view kCanonicalVersion = "podcd-canonical-v1";

// Field name -> canonical value for one service. Map-valued fields are split per key
// ("environment.FOO", "labels.x"), referenced files appear as "file <path>" -> sha256, the
// stack-level definitions a service uses as "network <key>", "volume <key>", "config <key>",
// "secret <key>". Every field is present with its default made explicit.
using CanonicalFields = std::map<std::string, std::string>;

// Visits every row of the compose key tables (core/compose_keys.hpp, where it is defined).
CanonicalFields Canonicalize(const Stack& stack, const Service& service);

// sha256 (hex) over kCanonicalVersion and the canonical fields.
std::string Fingerprint(const CanonicalFields& fields);
std::string Fingerprint(const Stack& stack, const Service& service);

// The same fields with each value replaced by its sha256 (hex): what may be stored where
// values must not be (container labels, logs): environment values can be secrets. Feeding
// digests of both sides to ChangedFields gives the same answer as the values would.
CanonicalFields Digests(const CanonicalFields& fields);

// Names of fields added, removed or changed between two canonical forms, sorted, e.g.
// {"environment.FOO", "file services/web/nginx.conf", "image"}.
std::vector<std::string> ChangedFields(const CanonicalFields& before, const CanonicalFields& after);

}  // namespace podcd::core
