// The stack policy as an allow-list, against real Podman (issue 13): a stack of the benign
// forms deploys; each escape the issue observed, one stack each, is refused with its rule
// named, and deploys nothing, while the others deploy; a Containerfile that is a symlink out
// of the repository is refused before it is read and its content appears nowhere.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "e2e_fixture.hpp"

using namespace podcd;
using namespace podcd::test;

namespace {

const std::string kWeb =
    "    image: localhost/bb:1\n"
    "    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n"
    "    init: true\n";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("policy: the benign forms deploy; every escape is refused with its rule and the rest deploys",
          "[e2e]") {
  PODCD_E2E_SETUP();
  Rig rig(env);
  const std::string benign = rig.Stack("benign");
  const std::string web_container = benign + "_web_1";
  std::map<std::string, std::string> files;
  files["services/" + benign + "/html/index.html"] = "hello\n";
  files["services/" + benign + "/compose.yml"] =
      "services:\n  web:\n" + kWeb +
      "    cap_add: [NET_BIND_SERVICE, CHOWN]\n"
      "    security_opt: [no-new-privileges:true]\n"
      "    volumes:\n"
      "      - ./html:/www:ro\n"
      "      - /etc/localtime:/etc/localtime:ro\n"
      "      - cache:/cache\n"
      "  side:\n    image: localhost/bb:1\n    command: [\"sleep\", \"3600\"]\n    init: true\n"
      "    network_mode: service:web\n"
      // Not o: size=64m: Podman 4.3.1 takes a tmpfs volume's size for a project quota and fails
      // ("Filesystem does not support Project Quota"); the policy passes it (unit tests).
      "volumes:\n  cache:\n    driver_opts: {type: tmpfs, device: tmpfs, o: \"mode=1777,nr_inodes=10000\"}\n";

  // One stack per escape: {what it sets, the rule its refusal must name}.
  const std::vector<std::pair<std::string, std::string>> escapes = {
      {"    cap_add: [SYS_MODULE]\n", "capabilities"},
      {"    cap_add: [DAC_READ_SEARCH]\n", "capabilities"},
      {"    security_opt: [\"seccomp=./allow.json\"]\n", "security_opt"},
      {"    ipc: \"path:/proc/1/ns/ipc\"\n", "host_namespaces"},
      {"    pid: \"container:" + web_container + "\"\n", "join_containers"},
      {"    network_mode: \"container:" + web_container + "\"\n", "join_containers"},
      {"    volumes: [\"etc:/host-etc\"]\nvolumes:\n  etc:\n    driver_opts: {type: bind, device: /etc}\n",
       "volume_drivers"},
      {"    volumes: [\"disk:/disk\"]\nvolumes:\n  disk:\n    driver_opts: {type: ext4, device: /dev/vda}\n",
       "volume_drivers"},
      {"    volumes: [\"ov:/ov\"]\nvolumes:\n  ov:\n    driver_opts: {type: overlay, device: overlay, o: "
       "\"lowerdir=/etc:/usr\"}\n",
       "volume_drivers"},
      {"    networks: [lan]\nnetworks:\n  lan:\n    driver: macvlan\n    driver_opts: {parent: eth0}\n",
       "network_drivers"},
      {"    volumes: [\"/etc/localtime:/etc/localtime:rw\"]\n", "host_binds_rw"},
      {"    volumes: [\"theirs:/theirs\"]\nvolumes:\n  theirs:\n    external: true\n    name: " + benign +
           "_cache\n",
       "shared_volumes"},
  };
  std::vector<std::string> hostile;
  for (std::size_t i = 0; i < escapes.size(); ++i) {
    const std::string stack = rig.Stack("escape" + std::to_string(i));
    hostile.push_back(stack);
    files["services/" + stack + "/compose.yml"] = "services:\n  app:\n" + kWeb + escapes[i].first;
    files["services/" + stack + "/allow.json"] = "{\"defaultAction\": \"SCMP_ACT_ALLOW\"}\n";
  }
  // A Containerfile that is a symlink to a file outside the repository (as /etc/shadow would be).
  const std::string shadow = rig.Stack("shadow");
  const auto canary_file = rig.dir() / "shadow";
  const std::string canary = "root:$6$CANARY-POLICY-E2E-7f3a:19000:0:99999:7:::";
  std::ofstream(canary_file) << canary << "\n";
  files["services/" + shadow + "/compose.yml"] = "services:\n  app:\n    build: ./app\n";
  files["services/" + shadow + "/app/main.txt"] = "x\n";
  std::filesystem::create_directories(rig.dir() / "dev/services" / shadow / "app");
  std::filesystem::create_symlink(canary_file, rig.dir() / "dev/services" / shadow / "app/Containerfile");
  rig.Commit(files, "benign and hostile stacks");

  auto run = rig.Reconcile();
  const std::string described = run.Describe();
  INFO(described);
  REQUIRE(run.Stack(benign) != nullptr);
  CHECK(run.Stack(benign)->outcome == "updated");
  auto ids = rig.Ids(benign);
  CHECK(ids.size() == 2);
  for (const auto& c : rig.Containers(benign)) CHECK(c.state == "running");
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    INFO(escapes[i].first);
    const auto* outcome = run.Stack(hostile[i]);
    REQUIRE(outcome != nullptr);
    CHECK(outcome->outcome == "refused");
    CHECK(Contains(outcome->reason, "is refused by policy"));
    CHECK(Contains(outcome->reason, "allow rule " + escapes[i].second + " for stack " + hostile[i]));
    CHECK(rig.Containers(hostile[i]).empty());
  }
  REQUIRE(run.Stack(shadow) != nullptr);
  CHECK(run.Stack(shadow)->outcome == "invalid");
  CHECK(Contains(run.Stack(shadow)->reason, "Containerfile in the build context services/" + shadow +
                                                "/app is not a regular file inside the context"));
  CHECK(rig.Containers(shadow).empty());
  // The canary is nowhere: not in the record, the log, nor the plan.
  CHECK(!Contains(described, "CANARY-POLICY-E2E"));
  CHECK(!Contains(run.Log(), "CANARY-POLICY-E2E"));
  auto plan = rig.Cli("plan --json");
  CHECK(!Contains(plan.output, "CANARY-POLICY-E2E"));
  CHECK(Contains(plan.output, "is not a regular file inside the context"));
  for (const auto& f : std::filesystem::recursive_directory_iterator(rig.state_dir())) {
    if (f.is_symlink() || !f.is_regular_file()) continue;  // the clone holds the symlink itself
    std::ifstream in(f.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    INFO(f.path());
    CHECK(!Contains(text, "CANARY-POLICY-E2E"));
  }
}
