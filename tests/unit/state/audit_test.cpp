#include "state/audit.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "support/temp_dir.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::state;

namespace {

AuditEntry Entry(std::string actor, std::string action, std::string target, std::int64_t at_ms = 0) {
  return {at_ms, std::move(actor), "192.0.2.7", std::move(action), std::move(target), "accepted", ""};
}

std::size_t Lines(const std::filesystem::path& p) {
  auto text = ReadFile(p, 1u << 30);
  REQUIRE(text);
  return static_cast<std::size_t>(std::count(text->begin(), text->end(), '\n'));
}

}  // namespace

TEST_CASE("audit log: entries newest first, kept across a restart, file mode 0600") {
  test::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    REQUIRE(log);
    REQUIRE((*log)->Append(Entry("user:alice", "login", "alice", 1000)));
    REQUIRE((*log)->Append(Entry("user:alice", "deploy-all-changed", "", 2000)));
    REQUIRE((*log)->Append({0, "token:t1:bob", "", "recreate", "web", "accepted", "deployment 20260101-1"}));
    auto all = (*log)->List(10);
    REQUIRE(all.size() == 3);
    CHECK(all[0].action == "recreate");
    CHECK(all[0].at_ms > 2000);  // set by Append
    CHECK(all[2].action == "login");
  }
  struct stat st {};
  REQUIRE(::stat((dir / "audit.log").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = AuditLog::Open(dir.path());
  REQUIRE(again);
  auto all = (*again)->List(10);
  REQUIRE(all.size() == 3);
  CHECK(all[0].actor == "token:t1:bob");
  CHECK(all[0].target == "web");
  CHECK(all[0].detail == "deployment 20260101-1");
  CHECK(all[1].at_ms == 2000);
  CHECK(all[2].address == "192.0.2.7");
  CHECK((*again)->List(2).size() == 2);
  CHECK((*again)->List(0).empty());
}

TEST_CASE("audit log: an existing file readable by others is made 0600") {
  test::TempDir dir;
  auto p = dir.Write("audit.log", "");
  ::chmod(p.c_str(), 0644);
  auto log = AuditLog::Open(dir.path());
  REQUIRE(log);
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("audit log: filters by actor, action and target substrings") {
  test::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  REQUIRE(log);
  REQUIRE((*log)->Append(Entry("user:alice", "redeploy", "web")));
  REQUIRE((*log)->Append(Entry("user:bob", "recreate", "web")));
  REQUIRE((*log)->Append(Entry("user:alice", "recreate", "db")));
  REQUIRE((*log)->Append(Entry("webhook:abc", "deploy-all-changed", "")));
  auto& l = **log;
  CHECK(l.List(10, {"alice", "", ""}).size() == 2);
  CHECK(l.List(10, {"", "recreate", ""}).size() == 2);
  CHECK(l.List(10, {"", "", "web"}).size() == 2);
  auto one = l.List(10, {"alice", "recreate", ""});
  REQUIRE(one.size() == 1);
  CHECK(one[0].target == "db");
  CHECK(l.List(10, {"user:", "", ""}).size() == 3);
  CHECK(l.List(1, {"user:", "", ""}).front().actor == "user:alice");  // the newest
  CHECK(l.List(10, {"carol", "", ""}).empty());
}

TEST_CASE("audit log: bounded to the newest entries; the file is compacted past twice that") {
  test::TempDir dir;
  AuditOptions o;
  o.max_entries = 5;
  {
    auto log = AuditLog::Open(dir.path(), o);
    REQUIRE(log);
    for (int i = 1; i <= 10; ++i) REQUIRE((*log)->Append(Entry("cli", "sync", std::to_string(i), i)));
    CHECK((*log)->Size() == 5);
    CHECK(Lines(dir / "audit.log") == 10);  // not yet more than twice the cap
    REQUIRE((*log)->Append(Entry("cli", "sync", "11", 11)));
    CHECK(Lines(dir / "audit.log") == 5);  // rewritten with the kept entries
    REQUIRE((*log)->Append(Entry("cli", "sync", "12", 12)));
    CHECK(Lines(dir / "audit.log") == 6);  // and appended to again
    auto all = (*log)->List(100);
    REQUIRE(all.size() == 5);
    CHECK(all.front().target == "12");
    CHECK(all.back().target == "8");
  }
  // A file longer than the cap (a larger cap before) keeps the newest on open, rewritten.
  AuditOptions small;
  small.max_entries = 3;
  auto log = AuditLog::Open(dir.path(), small);
  REQUIRE(log);
  auto all = (*log)->List(100);
  REQUIRE(all.size() == 3);
  CHECK(all.front().target == "12");
  CHECK(all.back().target == "10");
  CHECK(Lines(dir / "audit.log") == 3);
}

TEST_CASE("audit log: a torn last line and malformed lines are skipped; the next entry survives") {
  test::TempDir dir;
  {
    auto log = AuditLog::Open(dir.path());
    REQUIRE(log);
    REQUIRE((*log)->Append(Entry("cli", "sync", "a", 1)));
  }
  {
    std::ofstream f(dir / "audit.log", std::ios::app);
    f << "not json\n{\"at_ms\":5}\n{\"at_ms\":2,\"actor\":\"cli\",\"act";  // torn by a crash
  }
  {
    auto log = AuditLog::Open(dir.path());
    REQUIRE(log);
    CHECK((*log)->Size() == 1);
    REQUIRE((*log)->Append(Entry("cli", "sync", "b", 3)));
  }
  auto log = AuditLog::Open(dir.path());
  REQUIRE(log);
  auto all = (*log)->List(10);
  REQUIRE(all.size() == 2);  // "b" was not glued to the torn bytes
  CHECK(all[0].target == "b");
  CHECK(all[1].target == "a");
}

TEST_CASE("audit log: fields are capped at character boundaries, secrets masked, JSON stays valid") {
  log::AddSecret("canary-audit-secret-0123");
  AuditEntry e;
  e.actor = std::string(300, 'a');
  e.action = "login";
  e.target = std::string(255, 'x') + "\xc3\xa9";  // "é" straddles the cap
  e.detail = "wrong password canary-audit-secret-0123 " + std::string(5000, 'd');
  e.address = "bad\xff utf8";
  const AuditEntry b = Bounded(e);
  CHECK(b.actor.size() == kMaxAuditFieldBytes);
  CHECK(b.target == std::string(255, 'x'));
  CHECK(b.detail.size() <= kMaxAuditDetailBytes);
  CHECK(b.detail.find("canary-audit-secret-0123") == std::string::npos);
  auto back = AuditEntryFromJson(ToJson(b));
  REQUIRE(back);
  CHECK(back->actor == b.actor);
  CHECK(back->target == b.target);
  CHECK_FALSE(AuditEntryFromJson("[]"));
  CHECK_FALSE(AuditEntryFromJson("{\"actor\":\"x\"}"));  // no action

  test::TempDir dir;
  auto log = AuditLog::Open(dir.path());
  REQUIRE(log);
  REQUIRE((*log)->Append(e));
  auto text = ReadFile(dir / "audit.log");
  REQUIRE(text);
  CHECK(text->find("canary-audit-secret-0123") == std::string::npos);
  CHECK((*log)->List(1)[0].actor.size() == kMaxAuditFieldBytes);
  log::ClearSecretsForTest();
}
