// The desired state read from a real synced clone: git-ignored data directories that a stack
// bind-mounts are state, not spec, and never change a fingerprint; tracked files do.
#include "reconcile/desired.hpp"

#include <catch2/catch.hpp>

#include "git/repo.hpp"
#include "support/run.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;

namespace {

void Git(const std::filesystem::path& dir, const std::string& args) {
  auto r = test::RunCommand("git -C " + dir.string() + " -c user.name=t -c user.email=t@localhost " + args);
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
}

std::string FingerprintOf(const reconcile::DesiredState& d, const std::string& stack,
                          const std::string& service) {
  const auto* st = d.Find(stack);
  REQUIRE(st);
  INFO((st->problems.empty() ? std::string() : st->problems.front()));
  REQUIRE(st->status == core::StackStatus::kOk);
  for (const auto& s : st->services) {
    if (s.name == service) return s.fingerprint;
  }
  FAIL("no service " << service);
  return {};
}

}  // namespace

TEST_CASE("git-ignored bind-mounted data never changes a fingerprint; a tracked config file does") {
  test::TempDir t;
  auto work = t / "work";
  t.Write("work/.gitignore", "services/app/data/\nsecrets/\n");
  t.Write("work/services/app/compose.yml",
          "services:\n  db:\n    image: localhost/bb:1\n    volumes:\n      - ./data:/data\n      - "
          "./db.conf:/etc/db.conf:ro\n");
  t.Write("work/services/app/db.conf", "max_connections=10\n");
  t.Write("work/services/app/data/table.db", "row 1\n");
  Git(work, "init -q -b main");
  Git(work, "add -A");
  Git(work, "commit -qm init");
  Git(t.path(), "clone -q --bare work remote.git");

  config::Config cfg;
  cfg.repo.url = "file://" + (t / "remote.git").string();
  cfg.repo.path = (t / "state/repo").string();
  cfg.repo.branch = "main";
  cfg.repo.services_dir = "services";
  cfg.repo.secrets_dir = "secrets";
  cfg.state_dir = (t / "state").string();
  cfg.policy.allowed_bind_roots = {"/etc/localtime"};
  git::InitLibgit2();
  REQUIRE(git::SyncRepo(cfg.repo, cfg.state_dir));
  // First plan: the data directory does not exist yet (it is not in git).
  auto before = reconcile::LoadDesired(cfg);
  REQUIRE(before);
  // The container creates and writes its data directory (ignored by git) before the next plan.
  t.Write("state/repo/services/app/data/table.db", "row 1\nrow 2\n");
  t.Write("state/repo/services/app/data/new.log", "x\n");
  REQUIRE(git::SyncRepo(cfg.repo, cfg.state_dir));
  auto after = reconcile::LoadDesired(cfg);
  REQUIRE(after);
  CHECK(FingerprintOf(*before, "app", "db") == FingerprintOf(*after, "app", "db"));

  // A tracked bind-mounted file changing in git does change it.
  t.Write("work/services/app/db.conf", "max_connections=20\n");
  Git(work, "commit -qam more-connections");
  Git(work, "push -q " + (t / "remote.git").string() + " main");
  REQUIRE(git::SyncRepo(cfg.repo, cfg.state_dir));
  auto changed = reconcile::LoadDesired(cfg);
  REQUIRE(changed);
  CHECK(FingerprintOf(*before, "app", "db") != FingerprintOf(*changed, "app", "db"));
}
