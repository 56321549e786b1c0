#include "reconcile/image_removal.hpp"

#include <catch2/catch.hpp>

using namespace podcd;
using namespace podcd::reconcile;
using state::ImageLedger;

namespace {

podman::ImageSummary Stored(std::string id, std::vector<std::string> tags = {}, std::int64_t containers = 0) {
  podman::ImageSummary s;
  s.id = std::move(id);
  s.repo_tags = std::move(tags);
  s.size = 100;
  s.unique_size = 100;
  s.containers = containers;
  return s;
}

// Service `app` of stack `web` brought images v1..vN in that order (each tagged by its build).
ImageLedger Builds(int n, const std::string& stack = "web") {
  ImageLedger l;
  for (int i = 1; i <= n; ++i) {
    const std::string v = "v" + std::to_string(i);
    state::AddBrought(l, stack, "app", {v, "built", {"localhost/podcd-build/" + stack + "_app:" + v}, i, 0});
  }
  return l;
}

std::vector<podman::ImageSummary> Store(int n, const std::string& stack = "web") {
  std::vector<podman::ImageSummary> out;
  for (int i = 1; i <= n; ++i) {
    const std::string v = "v" + std::to_string(i);
    out.push_back(Stored(v, {"localhost/podcd-build/" + stack + "_app:" + v}));
  }
  return out;
}

std::vector<std::string> Removed(const ImageRemovalPlan& p) {
  std::vector<std::string> out;
  for (const auto& i : p.remove) out.push_back(i.id);
  return out;
}

}  // namespace

TEST_CASE("image removal: the current image and keep_previous before it stay, older ones go") {
  const ImageLedger l = Builds(5);
  SECTION("keep_previous 1") {
    auto p = PlanImageRemoval(l, Store(5), {"web", {{"app", "v5"}}, 1, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1", "v2", "v3"});
  }
  SECTION("keep_previous 0: only the current one") {
    auto p = PlanImageRemoval(l, Store(5), {"web", {{"app", "v5"}}, 0, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1", "v2", "v3", "v4"});
  }
  SECTION("keep_previous 3") {
    auto p = PlanImageRemoval(l, Store(5), {"web", {{"app", "v5"}}, 3, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1"});
  }
  SECTION("a service back on an older image keeps it and the one used last before") {
    // v2 is current again (a revert): v5 was the previous one used.
    auto p = PlanImageRemoval(l, Store(5), {"web", {{"app", "v2"}}, 1, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1", "v3", "v4"});
  }
  SECTION("a service running an image podcd did not bring keeps keep_previous of its own") {
    auto p = PlanImageRemoval(l, Store(5), {"web", {{"app", "hand-pulled"}}, 1, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1", "v2", "v3", "v4"});
  }
  SECTION("a service whose current image is not known keeps its newest and keep_previous") {
    auto p = PlanImageRemoval(l, Store(5), {"web", {}, 1, {}});
    CHECK(Removed(p) == std::vector<std::string>{"v1", "v2", "v3"});
  }
}

TEST_CASE("image removal: never an image podcd did not bring for this stack") {
  ImageLedger l = Builds(3);
  auto store = Store(3);
  store.push_back(Stored("base", {"docker.io/library/debian:bookworm-slim"}));
  store.push_back(Stored("by-hand", {"localhost/mine:1"}));
  store.push_back(Stored("dangling"));
  auto p = PlanImageRemoval(l, store, {"web", {{"app", "v3"}}, 0, {}});
  CHECK(Removed(p) == std::vector<std::string>{"v1", "v2"});
  // Another stack's images are not this stack's to remove, whatever its ledger says.
  state::AddBrought(l, "api", "srv", {"x1", "pulled", {}, 1, 0});
  state::AddBrought(l, "api", "srv", {"x2", "pulled", {}, 2, 0});
  state::AddBrought(l, "api", "srv", {"x3", "pulled", {}, 3, 0});
  store.push_back(Stored("x1"));
  p = PlanImageRemoval(l, store, {"web", {{"app", "v3"}}, 0, {}});
  CHECK(Removed(p) == std::vector<std::string>{"v1", "v2"});
}

TEST_CASE("image removal: never an image a container uses, of any stack or none, running or not") {
  auto store = Store(4);
  store[0].containers = 1;  // v1: a stopped container of someone
  auto p = PlanImageRemoval(Builds(4), store, {"web", {{"app", "v4"}}, 1, {}});
  CHECK(Removed(p) == std::vector<std::string>{"v2"});
  REQUIRE(p.kept.size() == 1);
  CHECK(p.kept.front() == std::pair<std::string, std::string>{"v1", "a container uses it"});
}

TEST_CASE("image removal: never an image a compose file names now") {
  auto p = PlanImageRemoval(Builds(4), Store(4), {"web", {{"app", "v4"}}, 1, {"v1"}});
  CHECK(Removed(p) == std::vector<std::string>{"v2"});
  CHECK(p.kept.front().second == "a compose file names it");
}

TEST_CASE("image removal: an image a person tagged since, or one shared with another stack, stays") {
  ImageLedger l = Builds(4);
  auto store = Store(4);
  store[0].repo_tags.push_back("localhost/keep-me:1");  // tagged by hand
  // v2 is also the image another stack brought (same content, its own tag): still kept for it.
  state::AddBrought(l, "api", "app", {"v2", "built", {"localhost/podcd-build/api_app:v2"}, 9, 0});
  store[1].repo_tags.push_back("localhost/podcd-build/api_app:v2");
  auto p = PlanImageRemoval(l, store, {"web", {{"app", "v4"}}, 1, {}});
  CHECK(Removed(p).empty());
  REQUIRE(p.kept.size() == 1);
  CHECK(p.kept.front().second == "also tagged localhost/keep-me:1, which podcd did not bring");
  // Once the other stack moved on past it (and past keep_previous), v2 goes.
  state::AddBrought(l, "api", "app", {"w1", "built", {}, 10, 0});
  state::AddBrought(l, "api", "app", {"w2", "built", {}, 11, 0});
  p = PlanImageRemoval(l, store, {"web", {{"app", "v4"}}, 1, {}});
  CHECK(Removed(p) == std::vector<std::string>{"v2"});
}

TEST_CASE("image removal: ledger images gone from the store are to forget") {
  auto store = Store(4);
  store.erase(store.begin());  // v1 removed by hand
  auto p = PlanImageRemoval(Builds(4), store, {"web", {{"app", "v4"}}, 1, {}});
  CHECK(p.gone == std::vector<std::string>{"v1"});
  CHECK(Removed(p) == std::vector<std::string>{"v2"});
}

TEST_CASE("image removal: candidates are known from the ledger alone") {
  CHECK(RemovalCandidates(Builds(2), {"web", {{"app", "v2"}}, 1, {}}).empty());
  CHECK(RemovalCandidates(Builds(3), {"web", {{"app", "v3"}}, 1, {}}) == std::set<std::string>{"v1"});
  CHECK(RemovalCandidates(Builds(3), {"db", {}, 1, {}}).empty());
}

TEST_CASE("image removal: bytes freed count each deleted image's own layers once") {
  std::vector<podman::ImageSummary> store;
  auto base = Stored("base");
  base.size = 1000;
  auto mid = Stored("mid");  // an intermediate build step: shares all with its child
  mid.parent_id = "base";
  mid.size = 1300;
  mid.unique_size = 0;
  auto top = Stored("top");
  top.parent_id = "mid";
  top.size = 1350;
  top.unique_size = 50;
  auto pulled = Stored("pulled");
  pulled.size = 5000;
  pulled.unique_size = 700;  // the rest shared with another version
  store = {base, mid, top, pulled};
  CHECK(FreedBytes(store, {"top", "mid"}) == 350);
  CHECK(FreedBytes(store, {"pulled"}) == 700);
  CHECK(FreedBytes(store, {"unknown"}) == 0);
}
