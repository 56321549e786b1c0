#include "core/runtimes.hpp"

#include <catch2/catch.hpp>

#include "core/policy.hpp"

using namespace podcd::core;

namespace {

const std::vector<std::string> kBuiltin = {"runc", "crun", "crun-wasm", "kata", "runsc", "youki", "krun"};

// What this machine's Podman 4.3.1 answers: runc by default, six names in containers.conf.
HostRuntimes Listed() { return {"runc", {"crun", "kata", "krun", "runc", "runj", "runsc"}, true}; }

Stack WithRuntime(const std::string& runtime) {
  Stack st;
  st.name = st.dir = "web";
  Service s;
  s.name = "app";
  s.runtime = runtime;
  st.services.push_back(s);
  return st;
}

}  // namespace

TEST_CASE("a set policy.allowed_runtimes wins over the host's answer") {
  auto r = DecideAllowedRuntimes({"runc", "kata"}, Listed(), "");
  CHECK(r.names == std::vector<std::string>{"runc", "kata"});
  CHECK(r.source == "policy.allowed_runtimes");
}

TEST_CASE("unset, a host that lists its runtimes gives them, its default first") {
  auto r = DecideAllowedRuntimes({}, Listed(), "");
  CHECK(r.names == std::vector<std::string>{"runc", "crun", "kata", "krun", "runj", "runsc"});
  CHECK(r.source == "the runtimes the host's Podman knows (its containers.conf)");
  // A default runtime containers.conf does not list (a path set in `runtime`) is known too.
  auto own = DecideAllowedRuntimes({}, HostRuntimes{"my-runc", {"runc"}, true}, "");
  CHECK(own.names == std::vector<std::string>{"my-runc", "runc"});
}

TEST_CASE("unset, a host that names only its default adds it to the built-in list") {
  auto r = DecideAllowedRuntimes({}, HostRuntimes{"runj", {}, false}, "");
  std::vector<std::string> expected = {"runj"};
  expected.insert(expected.end(), kBuiltin.begin(), kBuiltin.end());
  CHECK(r.names == expected);
  CHECK(r.source.find("default runtime and podcd's built-in list") != std::string::npos);
  // Its default already built in: named once.
  CHECK(DecideAllowedRuntimes({}, HostRuntimes{"crun", {}, false}, "").names.size() == kBuiltin.size());
}

TEST_CASE("unset and no Podman asked: the built-in list, and the source says why") {
  auto r = DecideAllowedRuntimes({}, std::nullopt, "no Podman was asked");
  CHECK(r.names == kBuiltin);
  CHECK(r.source == "podcd's built-in list, no Podman was asked");
}

TEST_CASE("the refusal names the list and where it came from") {
  PolicySettings offline;
  auto v = CheckPolicy(WithRuntime("nvidia"), offline);
  REQUIRE(v.size() == 1);
  CHECK(v[0].rule == "policy.allowed_runtimes");
  CHECK(v[0].reason ==
        "service app: runtime: nvidia is refused by policy (allowed: runc, crun, crun-wasm, kata, runsc, "
        "youki, "
        "krun, from podcd's built-in list, no Podman was asked; policy.allowed_runtimes sets the list)");
  CHECK(CheckPolicy(WithRuntime("youki"), offline).empty());

  PolicySettings host;
  int asked = 0;
  host.runtimes = [&] {
    ++asked;
    return DecideAllowedRuntimes({}, Listed(), "");
  };
  CHECK(CheckPolicy(WithRuntime("runj"), host).empty());  // the host knows it; the built-in list does not
  auto refused = CheckPolicy(WithRuntime("youki"), host);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].reason.find("(allowed: runc, crun, kata, krun, runj, runsc, from the runtimes the host's "
                               "Podman knows (its containers.conf);") != std::string::npos);
  // A stack without `runtime` does not make anyone ask.
  asked = 0;
  CHECK(CheckPolicy(WithRuntime(""), host).empty());
  CHECK(asked == 0);
}
