// known_hosts parsing and host-key matching for SSH remotes (OpenSSH's file format).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace podcd::git {

enum class HostKeyVerdict {
  kMatch,     // a line names this host with exactly this key
  kMismatch,  // the host is known, but with other keys: refuse (possible man in the middle)
  kUnknown,   // no line names this host
  kRevoked,   // an @revoked line lists this key
};

// Checks `key_blob` (the SSH wire-format public key, what the server presented) for
// `host`:`port` against the text of a known_hosts file. Host patterns may be plain names,
// "[host]:port" for non-22 ports, comma lists, wildcards (* ?), negations (!), or hashed
// ("|1|salt|hash", as ssh-keyscan -H writes). @cert-authority lines are ignored.
HostKeyVerdict CheckHostKey(std::string_view known_hosts_text, std::string_view host, std::uint16_t port,
                            std::string_view key_blob);

}  // namespace podcd::git
