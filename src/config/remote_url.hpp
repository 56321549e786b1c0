// The environment repository's remote URL: which transport it names, how it may be shown
// (userinfo redacted), and whether that transport is allowed (repo.allow_insecure).
#pragma once

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace podcd::config {

// The scheme in lower case ("https", "ssh", "git", "file"); "" for a local path or the
// scp-like form user@host:path, which is SSH.
std::string RemoteScheme(std::string_view url);

// The URL with its userinfo (user:token@) replaced by "***@"; anything else unchanged.
std::string RedactUserinfo(std::string_view url);

// http:// and git:// carry the repository unencrypted and unauthenticated (anyone on the
// path can change what is deployed): refused (kPermissionDenied, naming the scheme, the
// redacted URL and repo.allow_insecure) unless `allow_insecure`. Everything else passes.
[[nodiscard]] Expected<void> CheckRemoteTransport(std::string_view url, bool allow_insecure);

}  // namespace podcd::config
