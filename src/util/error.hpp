// The project's error value and Expected<T>: every expected failure travels as one of these.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace podcd {

enum class ErrorCode {
  kInvalidArgument,  // bad input from a user, a file or a request
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,  // refused by policy or by the OS
  kUnauthenticated,
  kUnavailable,  // a peer (Podman, a git remote) cannot be reached
  kTimeout,
  kIo,
  kInternal,
};

std::string_view ToString(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // what went wrong, in the words the user needs
  std::string context;  // where: a file:line:col, a stack, a request

  // "context: message", or just the message when there is no context.
  [[nodiscard]] std::string What() const;
  // Returns a copy with `outer` prepended to the context ("outer: context").
  [[nodiscard]] Error WithContext(std::string_view outer) const;
};

// std::expected<T, Error> that must not be dropped: an ignored failure is a compile error
// under -Werror (Abseil marks StatusOr the same way). Converts both ways with std::expected.
template <typename T>
class [[nodiscard]] Expected : public std::expected<T, Error> {
 public:
  using Base = std::expected<T, Error>;
  using Base::Base;
  Expected() = default;
  Expected(Base other) : Base(std::move(other)) {}  // NOLINT(google-explicit-constructor): and_then() & co.
};

[[nodiscard]] inline std::unexpected<Error> Fail(ErrorCode code, std::string message,
                                                 std::string context = {}) {
  return std::unexpected<Error>(Error{code, std::move(message), std::move(context)});
}

}  // namespace podcd
