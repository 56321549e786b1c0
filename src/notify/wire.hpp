// The lines between the daemon's notifier and its `podcd __notify` child: one request a line on
// the child's stdin (the URL, headers and body to send: secrets travel here, never in argv or
// the environment), one result a line on its stdout, in the order the sends end.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "notify/message.hpp"
#include "util/error.hpp"

namespace podcd::notify {

struct SendRequest {
  std::uint64_t id = 0;
  Outgoing out;
};

struct SendResult {
  std::uint64_t id = 0;
  bool sent = false;
  long status = 0;    // the last HTTP status, 0 when no answer came
  std::string error;  // the last transport error ("" with a status); never the URL
  int tries = 0;
};

std::string EncodeRequest(const SendRequest& request);  // one JSON line, without '\n'
Expected<SendRequest> DecodeRequest(std::string_view line);
std::string EncodeResult(const SendResult& result);
Expected<SendResult> DecodeResult(std::string_view line);

}  // namespace podcd::notify
