// Skipping a test whose real service is missing: a visible warning on a developer's machine,
// a failure under CI (CI=true), where every service is started and a skip would hide that a
// suite did not run.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string_view>

namespace podcd::test {

inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  if (ci == nullptr) return false;
  const std::string_view v(ci);
  return !v.empty() && v != "0" && v != "false";
}

}  // namespace podcd::test

// Ends the test: FAIL under CI, else WARN "SKIPPED: <why>" and return.
#define PODCD_SKIP(why)                                                       \
  do {                                                                        \
    if (::podcd::test::UnderCi()) FAIL("not skipped under CI=true: " << why); \
    WARN("SKIPPED: " << why);                                                 \
    return;                                                                   \
  } while (false)
