// Registry credentials from a containers-auth.json, encoded for libpod's X-Registry-Auth header.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::podman {

struct RegistryCredentials {
  std::string username;
  std::string password;
  std::string identity_token;
};

// "registry/namespace/name" of an image reference, without tag or digest, with Docker's
// defaults ("busybox" -> "docker.io/library/busybox").
std::string ImageRepository(std::string_view reference);

// One entry of a containers-auth.json: its key (a host, or host/namespace; Docker Hub's names
// read as docker.io), and its credentials or what is wrong with them.
struct AuthEntry {
  std::string key;
  RegistryCredentials credentials;
  std::string error;  // "" when usable
};
// Every entry that carries credentials (an entry with only a credential helper is left out).
// An error only when the file is not an auth file at all; a bad entry carries its own error.
Expected<std::vector<AuthEntry>> ReadAuthEntries(std::string_view auth_json);

// The X-Registry-Config header value libpod's build endpoint takes for the base images of a
// build: base64url of {"<key>":{"username":...,"password":...},...} (pkg/auth
// multiAuthHeader), every usable entry; nullopt when there is none.
std::optional<std::string> RegistryConfigHeader(const std::vector<AuthEntry>& entries);

// Looks `reference` up in the text of a containers-auth.json ({"auths":{"host":{"auth":
// base64("user:pass")}}}, as `podman login` writes it), most specific key first:
// host/ns/name, host/ns, host. Keys may carry an http(s):// prefix (Docker's format).
// nullopt when no entry matches; an error names the file's problem (never a secret).
Expected<std::optional<RegistryCredentials>> FindCredentials(std::string_view auth_json,
                                                             std::string_view reference);

// The X-Registry-Auth header value libpod expects for one registry: base64url of
// {"username":...,"password":...} (pkg/auth singleAuthHeader).
std::string RegistryAuthHeader(const RegistryCredentials& credentials);

}  // namespace podcd::podman
