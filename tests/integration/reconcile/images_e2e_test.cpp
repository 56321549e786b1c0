// Images that do not pile up (issue 16): after each successful deployment, the images podcd
// built for a stack and no longer needs are removed, keeping the current and previous ones;
// an image podcd did not bring, or one a container of someone else uses, stays.
#include <catch2/catch.hpp>
#include <string>

#include "e2e_fixture.hpp"
#include "state/image_ledger.hpp"
#include "util/metrics.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

// The images of the store that carry a tag starting with `prefix`.
std::vector<podman::ImageSummary> Tagged(podman::Client& client, const std::string& prefix) {
  auto all = client.ListImages();
  REQUIRE(all.has_value());
  std::vector<podman::ImageSummary> out;
  for (const auto& i : *all) {
    for (const auto& t : i.repo_tags) {
      if (t.starts_with(prefix)) {
        out.push_back(i);
        break;
      }
    }
  }
  return out;
}

bool Present(podman::Client& client, const std::string& id) {
  auto exists = client.ImageExists(id);
  REQUIRE(exists.has_value());
  return *exists;
}

}  // namespace

TEST_CASE("ten deployments of a changing build context leave the current and the previous image", "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string stack = rig.Stack("images");
  const std::string dir = "services/" + stack + "/";
  const std::string repo = "localhost/podcd-build/" + stack + "_app:";
  const std::string compose =
      "services:\n  app:\n    build: ./app\n    command: [\"sleep\", \"3600\"]\n    init: true\n";
  // A cached step shared by every build, then the step the change makes new: a layered build.
  const std::string containerfile = "FROM localhost/bb:1\nRUN echo base > /base\nCOPY page.txt /www/\n";
  auto deploy = [&](int n) {
    rig.Commit({{dir + "compose.yml", compose},
                {dir + "app/Containerfile", containerfile},
                {dir + "app/page.txt", "version " + std::to_string(n) + "\n"}},
               "version " + std::to_string(n));
    auto run = rig.Reconcile();
    INFO(run.Describe());
    REQUIRE(run.Succeeded());
    return run;
  };

  deploy(1);
  const auto first = Tagged(rig.client(), repo);
  REQUIRE(first.size() == 1);
  deploy(2);
  // The test's own images, which podcd did not bring: one it built by hand, and podcd's first
  // build tagged by hand under another name (a person keeping it).
  const std::string mine = "localhost/e2e-" + std::to_string(getpid()) + "-mine:1";
  const std::string kept = "localhost/e2e-" + std::to_string(getpid()) + "-kept:1";
  std::filesystem::create_directories(rig.dir() / "mine");
  std::ofstream(rig.dir() / "mine" / "Containerfile") << "FROM localhost/bb:1\nRUN echo mine > /mine\n";
  Sh("podman build -q -t " + mine + " " + Quote((rig.dir() / "mine").string()));
  Sh("podman tag " + first.front().id + " " + kept);
  // And a container of no stack, stopped, on podcd's second build.
  const auto second = Tagged(rig.client(), repo);
  REQUIRE(second.size() == 2);
  std::string second_id;
  for (const auto& i : second) {
    if (i.id != first.front().id) second_id = i.id;
  }
  const std::string foreign = "e2e-" + std::to_string(getpid()) + "-on-old-image";
  rig.Foreign(foreign);
  Sh("podman create --name " + foreign + " " + second_id + " true");

  const double removed_before = metrics::Value("podcd_images_removed_total", {{"stack", stack}}).value_or(0);
  std::int64_t removed = 0;
  std::int64_t bytes = 0;
  std::string current_id, previous_id;
  for (int n = 3; n <= 10; ++n) {
    auto run = deploy(n);
    const auto* outcome = run.Stack(stack);
    REQUIRE(outcome != nullptr);
    removed += outcome->images_removed;
    bytes += outcome->image_bytes_freed;
    // The current and previous builds, plus the two kept for their own reasons.
    const auto now = Tagged(rig.client(), repo);
    INFO(run.Describe());
    CHECK(now.size() <= 4);
  }
  // Ten builds: the current, the previous, the first (tagged by hand) and the second (a
  // container uses it) remain; the six others went.
  CHECK(removed == 6);
  CHECK(bytes > 0);
  CHECK(metrics::Value("podcd_images_removed_total", {{"stack", stack}}).value_or(0) - removed_before == 6);
  const auto left = Tagged(rig.client(), repo);
  CHECK(left.size() == 4);
  CHECK(Present(rig.client(), first.front().id));
  CHECK(Present(rig.client(), second_id));
  CHECK(Present(rig.client(), mine));
  CHECK(Present(rig.client(), "localhost/bb:1"));

  // The ledger knows what is left, and the record of the last run says what went.
  auto ledger = state::ReadImageLedger(state::ImageLedgerPath(rig.state_dir()));
  REQUIRE(ledger.has_value());
  CHECK(ledger->at(stack).at("app").size() == 4);

  // Once the container and the hand-made tag are gone, both old builds go at the next deployment.
  Sh("podman rm " + foreign);
  Sh("podman rmi " + kept);
  auto last = deploy(11);
  REQUIRE(last.Stack(stack) != nullptr);
  CHECK(last.Stack(stack)->images_removed == 3);  // the first, the second, and version 9
  CHECK(Tagged(rig.client(), repo).size() == 2);
  CHECK_FALSE(Present(rig.client(), first.front().id));
  CHECK(Present(rig.client(), mine));
  Sh("podman rmi " + mine);
}
