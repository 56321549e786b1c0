// Golden canonical forms: the fingerprint of every container podcd deployed is stored in its
// labels, so a canonical form that drifts (a renamed field, a changed encoding, a forgotten
// key) would recreate every service after an upgrade. These were computed by the loader and
// canonicaliser before they were table-driven; change them only with kCanonicalVersion.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>

#include "core/fingerprint.hpp"
#include "golden_fixtures.hpp"
#include "helpers.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// Every service of the stack: its fields one per line, then the fingerprint of those fields.
// The temporary repository's absolute path (bind sources) reads "<repo>".
std::string Golden(const Repo& repo, const core::Stack& stack) {
  const std::string root = repo.Root().string();
  std::string out;
  for (const auto& s : stack.services) {
    auto fields = core::Canonicalize(stack, s);
    CHECK(core::Fingerprint(stack, s) == core::Fingerprint(fields));
    core::CanonicalFields stable;
    for (const auto& [k, v] : fields)
      stable.emplace(ReplaceAll(k, root, "<repo>"), ReplaceAll(v, root, "<repo>"));
    out += "== " + stack.name + "/" + s.name + "\n";
    for (const auto& [k, v] : stable) out += k + "=" + v + "\n";
    out += "fingerprint " + core::Fingerprint(stable) + "\n";
  }
  return out;
}

void Check(const std::string& name, const std::string& actual, const char* expected) {
  if (std::getenv("PODCD_PRINT_GOLDEN")) std::cout << "---- " << name << "\n" << actual << "---- end\n";
  INFO(name);
  CHECK(actual == expected);
}

}  // namespace

TEST_CASE("canonical forms and fingerprints stay byte-identical: every key") {
  Repo repo;
  WriteGoldenFiles(repo);
  auto stack = repo.Ok("golden", kGoldenEveryKey);
  Check("every key", Golden(repo, stack), kGoldenEveryKeyExpected);
}

TEST_CASE("canonical forms and fingerprints stay byte-identical: fingerprint test base") {
  Repo repo;
  WriteGoldenFiles(repo);
  auto stack = repo.Ok("web", kGoldenBase);
  Check("base", Golden(repo, stack), kGoldenBaseExpected);
}

TEST_CASE("canonical forms and fingerprints stay byte-identical: plan bench stack") {
  Repo repo;
  WriteGoldenFiles(repo);
  auto stack = repo.Ok("stack7", kGoldenBench);
  Check("bench", Golden(repo, stack), kGoldenBenchExpected);
}
