#include "util/error.hpp"

namespace podcd {

std::string_view ToString(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kPermissionDenied: return "permission denied";
    case ErrorCode::kUnauthenticated: return "unauthenticated";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

std::string Error::What() const {
  if (context.empty()) return message;
  return context + ": " + message;
}

Error Error::WithContext(std::string_view outer) const {
  Error e = *this;
  e.context = context.empty() ? std::string(outer) : std::string(outer) + ": " + context;
  return e;
}

}  // namespace podcd
