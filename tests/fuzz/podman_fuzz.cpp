// Fuzzes what podman::Client parses from outside: auth.json files, log frames, error bodies,
// base64 and image references.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "podman/auth.hpp"
#include "podman/client.hpp"
#include "util/base64.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // First line: an image reference; the rest: an auth.json.
  const auto nl = input.find('\n');
  const std::string_view reference = input.substr(0, nl);
  const std::string_view rest = nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1);
  static_cast<void>(podcd::podman::ImageRepository(reference));
  static_cast<void>(podcd::podman::FindCredentials(rest, reference));
  static_cast<void>(podcd::Base64Decode(input));
  auto logs = podcd::podman::DemuxLogs(input);
  if (logs.out.size() + logs.err.size() != logs.combined.size()) __builtin_trap();
  static_cast<void>(podcd::podman::ErrorFromResponse(500, input, "fuzz"));
  return 0;
}
