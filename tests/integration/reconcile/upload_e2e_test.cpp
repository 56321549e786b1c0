// POST /upload end to end (docs/upload.md): a real `podcd serve` with its workers, the real
// Podman of scripts/testenv.sh and its loopback registry, uploads made as a CI job makes them
// (curl -F) and with `podcd upload`.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "e2e_fixture.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::test;
using namespace std::chrono_literals;

namespace {

const std::string kToken = "upload-test-token-0123456789abcdef";

std::string Field(const std::string& json, const std::string& key) {
  std::smatch m;
  if (std::regex_search(json, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

struct Posted {
  int status = 0;
  std::string body;
};

// curl -F, as IPD's CI jobs upload (it sends Expect: 100-continue for larger files).
Posted Upload(Daemon& d, const std::string& project, const std::filesystem::path& file, bool token = true) {
  const std::string cmd = "curl -sS -o - -w '\\n%{http_code}' " +
                          (token ? "-H " + Quote("Authorization: Bearer " + kToken) + " " : std::string()) +
                          "-F project=" + Quote(project) + " -F " + Quote("image=@" + file.string()) + " " +
                          Quote(d.Url("/upload")) + " 2>&1";
  auto r = RunCommand(cmd);
  Posted p;
  const auto nl = r.output.rfind('\n');
  if (nl == std::string::npos) return p;
  p.body = r.output.substr(0, nl);
  p.status = std::atoi(r.output.substr(nl + 1).c_str());
  return p;
}

std::string ImageId(const std::string& ref) {
  auto r = RunCommand("podman image inspect --format '{{.Id}}' " + Quote(ref) + " 2>/dev/null");
  std::string id = r.exit_code == 0 ? r.output : "";
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  return id;
}

std::string ContainerImage(const std::string& container) {
  auto r = RunCommand("podman inspect --format '{{.Image}}' " + Quote(container));
  std::string id = r.output;
  while (!id.empty() && (id.back() == '\n' || id.back() == '\r')) id.pop_back();
  return id;
}

std::vector<std::string> Auth() { return {"Authorization: Bearer " + kToken}; }

// Polls GET /status/<stack>/<id> until it ends; returns every distinct status seen, in order.
std::vector<std::string> Statuses(Daemon& d, const std::string& stack, const std::string& id) {
  std::vector<std::string> seen;
  for (auto end = std::chrono::steady_clock::now() + 180s; std::chrono::steady_clock::now() < end;) {
    const std::string s = Field(Call("GET", d.Url("/status/" + stack + "/" + id), Auth()).body, "status");
    if (seen.empty() || seen.back() != s) seen.push_back(s);
    if (s != "await" && s != "active") break;
    std::this_thread::sleep_for(20ms);
  }
  return seen;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

}  // namespace

TEST_CASE(
    "an uploaded image is loaded and deployed (await, active, ok); junk, foreign, truncated, oversized and "
    "unauthenticated uploads are refused and change nothing",
    "[e2e]") {
  PODCD_E2E_SETUP();
  REQUIRE_FALSE(env.registry.empty());
  Rig rig(env);
  const std::string stack = rig.Stack("upload");
  // A registry's name: without the uploaded-image rule a deploy with pull would put the
  // registry's image back over the upload.
  const std::string image = env.registry + "/" + stack + "-app:prod";
  const std::string other = "localhost/" + stack + "-other:1";
  const std::string builder = stack + "-builder";
  struct Images {
    std::vector<std::string> names;
    ~Images() {
      for (const auto& n : names) RunCommand("podman rmi -f " + Quote(n) + " >/dev/null 2>&1");
    }
  } images{{image, other}};
  Sh("podman tag localhost/bb:1 " + Quote(image) + " && podman push -q --tls-verify=false " + Quote(image));
  rig.Commit(
      {{"services/" + stack + "/compose.yml",
        "services:\n  app:\n    image: " + image +
            "\n    command: [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n    init: true\n"}},
      "app");
  std::string config = *ReadFile(rig.config_file());
  config += "api:\n  token: " + kToken + "\nupload:\n  max_bytes: 50000000\npoll:\n  interval: 0\n";
  const auto config_file = rig.dir() / "upload.yml";
  std::ofstream(config_file) << config;
  Daemon d(config_file, rig.dir() / "serve.log", "PODCD_LOG_LEVEL=info");
  INFO(d.Log());
  REQUIRE(d.port() != 0);
  std::map<std::string, std::string> ids;
  for (int i = 0; i < 1200 && ids.size() != 1; ++i) {
    ids = rig.Ids(stack);
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE(ids.size() == 1);
  const std::string first_container = ids.at("app");
  const std::string old_image = ImageId("localhost/bb:1");
  REQUIRE(ContainerImage(first_container) == old_image);

  // A new image under the stack's tag, saved, then gone from the store.
  const auto ctx = rig.dir() / "ctx";
  std::filesystem::create_directories(ctx);
  std::ofstream(ctx / "Containerfile") << "FROM localhost/bb:1\nRUN echo uploaded > /www/index.html\n";
  Sh("podman build -q -t " + Quote(image) + " " + Quote(ctx.string()) + " >/dev/null");
  const std::string new_image = ImageId(image);
  REQUIRE(!new_image.empty());
  REQUIRE(new_image != old_image);
  const auto archive = rig.dir() / "app.tar";
  Sh("podman save -q -o " + Quote(archive.string()) + " " + Quote(image));
  Sh("podman rmi " + Quote(image) + " >/dev/null");
  REQUIRE(ImageId(image).empty());

  // Refusals first: each leaves the running container as it was, and no file behind.
  auto unchanged = [&] {
    CHECK(rig.Ids(stack) == std::map<std::string, std::string>{{"app", first_container}});
    CHECK(ContainerImage(first_container) == old_image);
    CHECK(ImageId(image).empty());
    std::error_code ec;
    const auto dir = rig.state_dir() / "uploads";
    CHECK((!std::filesystem::exists(dir) || std::filesystem::is_empty(dir, ec)));
  };
  SECTION("refusals") {
    auto anonymous = Upload(d, stack, archive, false);
    CHECK(anonymous.status == 401);
    unchanged();

    const auto junk = rig.dir() / "junk.tar";
    std::ofstream(junk) << std::string(100000, 'j');
    auto j = Upload(d, stack, junk);
    CHECK(j.status == 400);
    CHECK(j.body.find("not a tar archive") != std::string::npos);
    unchanged();

    const auto truncated = rig.dir() / "truncated.tar";
    Sh("head -c " + std::to_string(std::filesystem::file_size(archive) / 2) + " " + Quote(archive.string()) +
       " > " + Quote(truncated.string()));
    auto t = Upload(d, stack, truncated);
    CHECK(t.status == 400);
    CHECK(t.body.find("truncated") != std::string::npos);
    unchanged();

    Sh("podman tag localhost/bb:1 " + Quote(other));
    const auto foreign = rig.dir() / "other.tar";
    Sh("podman save -q -o " + Quote(foreign.string()) + " " + Quote(other));
    Sh("podman rmi " + Quote(other) + " >/dev/null");
    auto f = Upload(d, stack, foreign);
    CHECK(f.status == 422);
    CHECK(f.body.find("none that a service of stack " + stack + " uses") != std::string::npos);
    CHECK(ImageId(other).empty());  // nothing was loaded
    unchanged();

    auto nostack = Upload(d, "no-such-stack", archive);
    CHECK(nostack.status == 404);

    const auto big = rig.dir() / "big.tar";
    Sh("head -c 60000000 /dev/zero > " + Quote(big.string()));
    auto b = Upload(d, stack, big);
    CHECK(b.status == 413);
    unchanged();
    CHECK(d.Running());
  }

  SECTION("an upload deploys; the status goes await, active, ok; a deploy with pull keeps it") {
    auto up = Upload(d, stack, archive);
    INFO(up.body);
    REQUIRE(up.status == 202);
    CHECK(Field(up.body, "status") == "await");
    const std::string id = Field(up.body, "deployment");
    REQUIRE(!id.empty());
    const auto seen = Statuses(d, stack, id);
    INFO(Joined(seen));
    INFO(d.Log());
    CHECK(seen.back() == "ok");
    CHECK(std::find(seen.begin(), seen.end(), "active") != seen.end());
    for (const auto& s : seen) CHECK((s == "await" || s == "active" || s == "ok"));
    const auto after = rig.Ids(stack);
    REQUIRE(after.size() == 1);
    CHECK(after.at("app") != first_container);
    CHECK(ContainerImage(after.at("app")) == new_image);
    CHECK(ImageId(image) == new_image);
    const std::string latest = Call("GET", d.Url("/status/" + stack), Auth()).body;
    CHECK(Field(latest, "status") == "ok");
    CHECK(Field(latest, "deployment") == id);
    CHECK(Field(latest, "record") == "/deployments/" + id);
    CHECK(Field(Call("GET", d.Url("/status/no-such-stack"), Auth()).body, "status") == "no");
    CHECK(Field(Call("GET", d.Url("/status/" + stack + "/20200101-000000-000001"), Auth()).body, "status") ==
          "no");

    // The uploaded-image rule: a deploy that pulls leaves the uploaded image where it is.
    auto pulled = Call("POST", d.Url("/deploy?wait=120"), Auth(),
                       R"({"stacks":[")" + stack + R"("],"pull":true})", 130);
    INFO(pulled.body);
    CHECK(Field(pulled.body, "state") == "succeeded");
    CHECK(pulled.body.find("was uploaded for this stack: not pulled") != std::string::npos);
    CHECK(rig.Ids(stack) == after);
    CHECK(ContainerImage(after.at("app")) == new_image);
    // The older deployment is now followed by a newer one of the project.
    CHECK(Field(Call("GET", d.Url("/status/" + stack + "/" + id), Auth()).body, "status") == "changed");

    // `podcd upload --wait`, with the token in a file: the same archive again changes nothing.
    const auto token_file = rig.dir() / "token";
    std::ofstream(token_file) << kToken << "\n";
    auto cli =
        RunCommand(std::string(PODCD_BINARY) + " upload " + stack + " " + Quote(archive.string()) +
                   " --wait --server " + d.Url("") + " --token-file " + Quote(token_file.string()) + " 2>&1");
    INFO(cli.output);
    CHECK(cli.exit_code == 0);
    CHECK(cli.output.find("\nok\n") != std::string::npos);
    CHECK(rig.Ids(stack) == after);

    // Asked for: a pull over the upload brings the registry's image back.
    auto over = Call("POST", d.Url("/deploy?wait=120"), Auth(),
                     R"({"stacks":[")" + stack + R"("],"pull":true,"pull_uploaded":true})", 130);
    INFO(over.body);
    CHECK(Field(over.body, "state") == "succeeded");
    const auto back = rig.Ids(stack);
    REQUIRE(back.size() == 1);
    CHECK(ContainerImage(back.at("app")) == old_image);

    // The uploads record names what the load added, for the images' removal.
    const std::string record = *ReadFile(rig.state_dir() / "uploads.json");
    CHECK(record.find(new_image) != std::string::npos);
  }
  CHECK(d.Terminate() == 0);
}
