// The per-installation key of the io.podcd.fields label: each field's short hash there is
// HMAC-SHA256 under this key, so that whoever reads labels cannot test guesses of a value
// (an environment value may be a secret) offline.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "util/error.hpp"
#include "util/sha256.hpp"

namespace podcd::reconcile {

// <state_dir>/field-hash.key: 32 random bytes as 64 hex digits, mode 0600. Created on first use
// when the state directory exists (never the directory itself), without replacing a key another
// process created meanwhile; an existing key is read. Errors: no state directory, unreadable or
// malformed key file.
inline constexpr std::string_view kFieldKeyFile = "field-hash.key";
Expected<std::string> LoadOrCreateFieldKey(const std::filesystem::path& state_dir);

// The hashes of one service's canonical fields for the label: 12 hex digits (48 bits, enough to
// name what changed; the decision to recreate is the sha256 fingerprint's) of
// HMAC-SHA256(key, name NUL value) per field, plus core::kFieldKeyId naming the key, so that
// hashes made under another key (or an older podcd's unkeyed FNV-1a) are not compared.
std::map<std::string, std::string> FieldHashes(const HmacSha256Key& key, const std::string& key_id,
                                               const std::map<std::string, std::string>& fields);
// The key's id: 12 hex digits of HMAC(key, "podcd field key id"); says nothing of the key.
std::string FieldKeyId(const HmacSha256Key& key);

}  // namespace podcd::reconcile
