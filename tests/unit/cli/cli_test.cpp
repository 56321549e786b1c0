// Runs the real podcd binary: help, version, check-config, unbuilt subcommands.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>

#include "support/run.hpp"
#include "support/temp_dir.hpp"

using podcd::test::RunCommand;

namespace {
const std::string kBin = PODCD_BINARY;
const std::string kEnvOk = "env -i WEBHOOK_SECRET=0123456789abcdef PODCD_REPO_PATH=/srv/env ";
}  // namespace

TEST_CASE("--help lists every subcommand; --version prints the version") {
  auto h = RunCommand(kBin + " --help");
  CHECK(h.exit_code == 0);
  for (auto cmd : {"serve", "plan", "deploy", "status", "sign", "passwd", "token", "check-config"}) {
    CHECK(h.output.find(cmd) != std::string::npos);
  }
  auto v = RunCommand(kBin + " --version");
  CHECK(v.exit_code == 0);
  CHECK(v.output.starts_with("podcd "));
}

TEST_CASE("check-config prints one summary line and exits 0 on a good config") {
  auto r = RunCommand(kEnvOk + kBin + " check-config");
  CHECK(r.exit_code == 0);
  CHECK(r.output.starts_with("config OK (environment): listen 0.0.0.0:8080"));
  CHECK(r.output.find("0123456789abcdef") == std::string::npos);
  CHECK(r.output.find("stacks: not checked, /srv/env/services does not exist yet") != std::string::npos);
}

TEST_CASE("check-config lists every error and exits 1") {
  podcd::test::TempDir d;
  auto f = d.Write("podcd.yml", "webhook:\n  max_body_bytes: lots\nbogus: 1\n");
  auto r = RunCommand("env -i " + kBin + " check-config --config " + f.string());
  CHECK(r.exit_code == 1);
  CHECK(
      r.output.find(f.string() + ":2:3: webhook.max_body_bytes: expected a positive integer, got \"lots\"") !=
      std::string::npos);
  CHECK(r.output.find(f.string() + ":3:1: bogus: unknown key") != std::string::npos);
  CHECK(r.output.find("webhook.secret: is required") != std::string::npos);
  CHECK(r.output.find("configuration has 4 errors") != std::string::npos);
}

TEST_CASE("usage errors exit 2 and say what is wrong") {
  auto r = RunCommand(kBin + " frobnicate");
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("unknown command \"frobnicate\"") != std::string::npos);
  auto n = RunCommand(kBin);
  CHECK(n.exit_code == 2);
  auto l = RunCommand(kBin + " --log-format xml check-config");
  CHECK(l.exit_code == 2);
  CHECK(l.output.find("--log-format: expected text or json") != std::string::npos);
}

TEST_CASE("check-config validates every stack of the repository and names each problem") {
  podcd::test::TempDir d;
  d.Write("repo/services/good/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n");
  d.Write("repo/services/typo/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n    imagee: x\n");
  d.Write("repo/services/priv/compose.yml",
          "services:\n  app:\n    image: localhost/bb:1\n    privileged: true\n");
  auto env = "env -i WEBHOOK_SECRET=0123456789abcdef PODCD_REPO_PATH=" + (d / "repo").string() + " ";
  auto r = RunCommand(env + kBin + " check-config");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("stack typo invalid: ") != std::string::npos);
  CHECK(r.output.find("imagee") != std::string::npos);
  CHECK(r.output.find("compose.yml:4:5") != std::string::npos);
  CHECK(r.output.find("stack priv refused: ") != std::string::npos);
  CHECK(r.output.find("stacks: 1 valid, 2 with errors") != std::string::npos);
}

TEST_CASE("check-config refuses each stack whose files fan out, with its reason, quickly; the others pass") {
  podcd::test::TempDir d;
  d.Write("repo/services/good/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n");
  // Under 1 MiB: a mapping of 40,000 keys merged into 40,000 items (1.6 * 10^9 entries).
  std::string fan = "x-a: &a {";
  for (int i = 0; i < 40'000; ++i) fan += (i ? ", k" : "k") + std::to_string(i) + ": 1";
  fan += "}\nx-b:\n";
  for (int i = 0; i < 40'000; ++i) fan += "  - <<: *a\n";
  d.Write("repo/services/merges/compose.yml", fan + "services:\n  app:\n    image: localhost/bb:1\n");
  // Variables that expand each other a thousandfold: 10 bytes, 10 KB, 10 MB, 10 GB.
  std::string env = "A=xxxxxxxxxx\n";
  for (char v : {'B', 'C', 'D'}) {
    env += std::string(1, v) + "=";
    for (int i = 0; i < 1000; ++i) env += std::string("$") + static_cast<char>(v - 1);
    env += "\n";
  }
  d.Write("repo/services/dotenv/.env", env);
  d.Write("repo/services/dotenv/compose.yml",
          "services:\n  app:\n    image: localhost/bb:1\n    environment: {X: $D}\n");
  // An ignore pattern a backtracking matcher never finishes on, and a name to try it on.
  std::string stars;
  for (int i = 0; i < 24; ++i) stars += "*a";
  d.Write("repo/services/pattern/compose.yml", "services:\n  app:\n    build: ./app\n");
  d.Write("repo/services/pattern/app/Containerfile", "FROM localhost/bb:1\n");
  d.Write("repo/services/pattern/app/.containerignore", stars + "*b\n");
  d.Write("repo/services/pattern/app/" + std::string(250, 'a'), "x");
  d.Write("repo/services/binary/compose.yml",
          std::string("services:\n  app:\n    image: \"\xff\xfe\x01\x80"));
  auto env_vars = "env -i WEBHOOK_SECRET=0123456789abcdef PODCD_REPO_PATH=" + (d / "repo").string() + " ";
  const auto start = std::chrono::steady_clock::now();
  auto r = RunCommand(env_vars + "timeout 120 " + kBin + " check-config");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(60));
  INFO(r.output.substr(0, 3000));
  CHECK(r.exit_code == 1);
  CHECK(r.output.find(
            "stack merges invalid: services/merges/compose.yml:26:5: the document expands to more than "
            "1000000 YAML nodes, podcd's limit") != std::string::npos);
  CHECK(r.output.find(
            "stack dotenv invalid: services/dotenv/.env:3: the value expands to more than 1048576 bytes "
            "once variables are substituted, podcd's limit") != std::string::npos);
  CHECK(r.output.find("stack binary invalid: services/binary/compose.yml:") != std::string::npos);
  CHECK(r.output.find("stack pattern") == std::string::npos);
  CHECK(r.output.find("stacks: 2 valid, 3 with errors") != std::string::npos);
}

TEST_CASE("serve runs podcd-serve from podcd's directory, and says so when it is missing") {
  podcd::test::TempDir d;
  const auto alone = d / "podcd";
  std::filesystem::copy_file(kBin, alone);
  std::filesystem::permissions(alone, std::filesystem::perms::owner_all);
  auto r = RunCommand(kEnvOk + "PATH=/nonexistent " + alone.string() + " serve");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("podcd serve: cannot run the daemon " + (d / "podcd-serve").string() +
                      ": No such file or directory (it is installed beside podcd)") != std::string::npos);
  // Beside it, podcd-serve is what runs (and its worker, the podcd next to it, must exist).
  std::filesystem::copy_file(std::filesystem::path(kBin).parent_path() / "podcd-serve", d / "podcd-serve");
  std::filesystem::remove(alone);
  auto missing_worker = RunCommand(kEnvOk + (d / "podcd-serve").string() + " serve");
  CHECK(missing_worker.exit_code == 1);
  CHECK(missing_worker.output.find("podcd serve: the worker " + alone.string() + " is not executable") !=
        std::string::npos);
}

TEST_CASE("a worker refuses a job from a daemon of another version, saying to restart it") {
  // What `podcd serve` sends, from a podcd-serve left running across an upgrade on disk.
  const std::string request =
      R"({"id":"d1","daemon_version":"0.0.1","trigger":{"kind":"poll"},"config":{"file":"","boot_text":"","current_text":""}})";
  podcd::test::TempDir d;
  auto f = d.Write("request.json", request);
  auto r = RunCommand(kEnvOk + kBin + " __run < " + f.string() + " 2>/dev/null");
  CHECK(r.exit_code == 1);
  CHECK(r.output.find(R"("ok":false)") != std::string::npos);
  CHECK(r.output.find(
            "and the daemon is podcd-serve 0.0.1: after installing a new podcd, restart the daemon") !=
        std::string::npos);
  auto older = RunCommand(kEnvOk + kBin + " __stacks < /dev/null 2>/dev/null");
  CHECK(older.exit_code == 1);
  CHECK(older.output.find("worker request") != std::string::npos);  // not even a request
}

TEST_CASE("check-config --format github: each problem as an annotation on its file, line and key") {
  podcd::test::TempDir d;
  d.Write("repo/services/good/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n");
  d.Write("repo/services/typo/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n    imagee: x\n");
  // The problem is in a file the stack includes: the annotation is on that file's line.
  d.Write("repo/services/inc/compose.yml", "include: [db.yml]\nservices:\n  app: {image: localhost/bb:1}\n");
  d.Write("repo/services/inc/db.yml",
          "services:\n  db:\n    image: localhost/bb:1\n    read_only: perhaps\n");
  d.Write("repo/services/priv/compose.yml",
          "services:\n  app:\n    image: localhost/bb:1\n    privileged: true\n");
  // As examples/github-actions/check.yml runs it in the checkout: no configuration file, no
  // webhook secret, no Podman, no state directory.
  auto r = RunCommand("cd " + (d / "repo").string() + " && env -i " + kBin +
                      " check-config --format github --repo .");
  INFO(r.output);
  CHECK(r.exit_code == 1);
  CHECK(r.output.find("::error file=services/typo/compose.yml,line=4,col=5,title=podcd%3A stack typo "
                      "invalid::services.app.imagee: unsupported key \"imagee\"") != std::string::npos);
  CHECK(r.output.find("::error file=services/inc/db.yml,line=4,col=16,title=podcd%3A stack inc "
                      "invalid::services.db.read_only: must be true or false") != std::string::npos);
  CHECK(
      r.output.find("::error file=services/priv/compose.yml,title=podcd%3A stack priv refused::service app: "
                    "privileged: true is refused by policy") != std::string::npos);
  CHECK(r.output.find("stacks: 1 valid, 3 with errors") != std::string::npos);
  CHECK(r.output.find("good") == std::string::npos);

  // stdout alone (RunCommand adds stderr): the report and nothing else.
  auto gl = RunCommand("(cd " + (d / "repo").string() + " && env -i " + kBin +
                       " check-config --format gitlab --repo . 2>/dev/null)");
  CHECK(gl.exit_code == 1);
  CHECK(gl.output.starts_with("[\n  {\"description\": "));
  CHECK(
      gl.output.find("\"location\": {\"path\": \"services/typo/compose.yml\", \"lines\": {\"begin\": 4}}") !=
      std::string::npos);
  CHECK(gl.output.find("\"check_name\": \"podcd-policy\"") != std::string::npos);
  CHECK(gl.output.ends_with("}\n]\n"));

  // A valid repository: exit 0, no annotation; an empty report for GitLab.
  podcd::test::TempDir ok;
  ok.Write("repo/services/good/compose.yml", "services:\n  app:\n    image: localhost/bb:1\n");
  auto fine = RunCommand("env -i " + kBin + " check-config --format github --repo " + (ok / "repo").string());
  CHECK(fine.exit_code == 0);
  CHECK(fine.output.find("::error") == std::string::npos);
  auto empty = RunCommand("(env -i " + kBin + " check-config --format gitlab --repo " +
                          (ok / "repo").string() + " 2>/dev/null)");
  CHECK(empty.exit_code == 0);
  CHECK(empty.output == "[]\n");
  auto usage = RunCommand(kBin + " check-config --format xml");
  CHECK(usage.exit_code == 2);
  CHECK(usage.output.find("expected text, github or gitlab") != std::string::npos);
  auto missing = RunCommand("env -i " + kBin + " check-config --format github --repo " + ok.path().string());
  CHECK(missing.exit_code == 1);
}
