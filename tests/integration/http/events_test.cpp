// GET /events on the real daemon (podcd-serve-test, whose placeholder runs take
// PODCD_TEST_PLACEHOLDER_DELAY_MS): read by libcurl as any client would, and by a raw socket
// that never reads.
#include <sys/stat.h>

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "auth/password.hpp"
#include "auth/tokens.hpp"
#include "support/daemon.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using podcd::test::Call;

namespace {

using Clock = std::chrono::steady_clock;

void WriteConfig(const test::TempDir& dir, const std::string& extra = "") {
  std::filesystem::create_directories(dir / "repo/services/web");
  std::filesystem::create_directories(dir / "repo/services/db");
  dir.Write("podcd.yml",
            "listen: 127.0.0.1:0\nwebhook:\n  secret: \"a-test-secret-of-some-length\"\nrepo:\n  path: " +
                (dir / "repo").string() + "\nstate_dir: " + (dir / "state").string() + "\n" + extra);
}

class Daemon : public test::Daemon {
 public:
  explicit Daemon(const test::TempDir& dir, int delay_ms = 0)
      : test::Daemon(dir / "podcd.yml", dir / ("serve-" + std::to_string(++count_) + ".log"),
                     "PODCD_TEST_PLACEHOLDER_DELAY_MS=" + std::to_string(delay_ms), PODCD_SERVE_TEST_BINARY) {
  }

 private:
  static inline int count_ = 0;
};

// A GET /events that libcurl reads as it arrives, on a thread of its own, until destroyed.
class Stream {
 public:
  Stream(std::string url, std::vector<std::string> headers = {})
      : thread_([this, url = std::move(url), headers = std::move(headers)] { Run(url, headers); }) {}
  ~Stream() {
    stop_ = true;
    thread_.join();
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Waits (at most `timeout`) until what arrived holds `needle`.
  bool WaitFor(const std::string& needle, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (Text().find(needle) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  // Waits until the answer's head is in; its status.
  long Status() {
    for (int i = 0; i < 2000 && status_ == 0 && !done_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return status_;
  }
  std::string Text() {
    std::lock_guard lock(m_);
    return text_;
  }
  std::string Headers() {
    std::lock_guard lock(m_);
    return headers_;
  }

 private:
  void Run(const std::string& url, const std::vector<std::string>& headers) {
    test::CurlInitOnce();
    CURL* c = curl_easy_init();
    curl_slist* list = nullptr;
    for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 180L);
    curl_easy_setopt(
        c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* ud) -> size_t {
          auto* self = static_cast<Stream*>(ud);
          std::lock_guard lock(self->m_);
          self->text_.append(p, s * n);
          return s * n;
        });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, this);
    curl_easy_setopt(
        c, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* ud) -> size_t {
          auto* self = static_cast<Stream*>(ud);
          std::lock_guard lock(self->m_);
          self->headers_.append(p, s * n);
          if (self->headers_.ends_with("\r\n\r\n")) {
            long code = 0;
            curl_easy_getinfo(self->curl_, CURLINFO_RESPONSE_CODE, &code);
            self->status_ = code;
          }
          return s * n;
        });
    curl_easy_setopt(c, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(
        c, CURLOPT_XFERINFOFUNCTION, +[](void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
          return static_cast<Stream*>(ud)->stop_ ? 1 : 0;
        });
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, this);
    curl_ = c;
    curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    status_ = code;
    done_ = true;
    curl_slist_free_all(list);
    curl_easy_cleanup(c);
  }

  std::mutex m_;
  std::string text_;
  std::string headers_;
  std::atomic<long> status_{0};
  std::atomic<bool> done_{false};
  std::atomic<bool> stop_{false};
  CURL* curl_ = nullptr;
  std::thread thread_;
};

struct Event {
  std::string kind;
  std::string id;
  std::string data;
};

// The events of a stream's text, in order (comments and the unfinished last one left out).
std::vector<Event> EventsOf(const std::string& text) {
  std::vector<Event> out;
  std::size_t at = 0;
  for (auto end = text.find("\n\n", at); end != std::string::npos;
       at = end + 2, end = text.find("\n\n", at)) {
    Event e;
    std::size_t line = at;
    while (line < end) {
      auto nl = std::min(text.find('\n', line), end);
      const std::string field = text.substr(line, nl - line);
      if (field.starts_with("event: ")) e.kind = field.substr(7);
      if (field.starts_with("id: ")) e.id = field.substr(4);
      if (field.starts_with("data: ")) e.data += field.substr(6);
      line = nl + 1;
    }
    if (!e.data.empty()) out.push_back(e);
  }
  return out;
}

std::string Field(const std::string& json, const char* key, const char* inner = nullptr) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (!d.IsObject() || !d.HasMember(key)) return "<missing>";
  const rapidjson::Value* v = &d[key];
  if (inner) {
    if (!v->IsObject() || !v->HasMember(inner)) return "<missing>";
    v = &(*v)[inner];
  }
  return v->IsString() ? v->GetString() : "<not a string>";
}

std::vector<Event> Of(const std::vector<Event>& events, const std::string& deployment) {
  std::vector<Event> out;
  for (const auto& e : events) {
    if (Field(e.data, "deployment") == deployment) out.push_back(e);
  }
  return out;
}

std::string Deploy(Daemon& d, const std::string& stack, const std::string& query = "") {
  auto r = Call("POST", d.Url("/deploy" + query), {}, R"({"stacks":[")" + stack + R"("]})");
  REQUIRE((r.status == 202 || r.status == 200));
  auto id = Field(r.body, query.empty() ? "deployment" : "id");
  REQUIRE(id.size() > 10);
  return id;
}

// A loopback connection that asks for /events and then never reads (its receive buffer small).
int StuckReader(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const std::string request = "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  return fd;
}

double Dropped(Daemon& d) {
  const std::string metrics = Call("GET", d.Url("/metrics")).body;
  const std::string name = "\npodcd_http_event_streams_dropped_total ";
  const auto at = metrics.find(name);
  return at == std::string::npos ? 0 : std::stod(metrics.substr(at + name.size()));
}

}  // namespace

TEST_CASE("GET /events: a deployment's events in order, numbered; Last-Event-ID resumes; ?stack= filters") {
  test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, 300);
  REQUIRE(d.port() != 0);
  Stream all(d.Url("/events"), {"Accept: text/event-stream"});
  REQUIRE(all.Status() == 200);
  CHECK(all.Headers().find("Content-Type: text/event-stream") != std::string::npos);
  Stream db_only(d.Url("/events?stack=db"));
  REQUIRE(db_only.Status() == 200);

  const std::string web = Deploy(d, "web");
  REQUIRE(all.WaitFor("\"kind\":\"finished\",\"deployment\":\"" + web + "\""));
  const auto events = Of(EventsOf(all.Text()), web);
  REQUIRE(events.size() == 4);
  CHECK(events[0].kind == "queued");
  CHECK(events[1].kind == "started");
  CHECK(events[2].kind == "stack");  // the placeholder run's outcome for stack web
  CHECK(events[3].kind == "finished");
  for (std::size_t i = 1; i < events.size(); ++i)
    CHECK(std::stoull(events[i - 1].id) < std::stoull(events[i].id));
  CHECK(Field(events[0].data, "state") == "queued");
  CHECK(Field(events[1].data, "state") == "running");
  CHECK(Field(events[2].data, "stack", "name") == "web");
  CHECK(Field(events[2].data, "stack", "outcome") == "skipped");
  CHECK(Field(events[3].data, "state") == "succeeded");
  CHECK(Field(events[0].data, "trigger", "kind") == "deploy");
  CHECK(Field(events[0].data, "trigger", "actor") == "loopback");
  CHECK(Field(events[0].data, "trigger", "stack") == "web");
  CHECK(Field(events[0].data, "queued_at").ends_with("Z"));
  CHECK(Field(events[3].data, "finished_at").ends_with("Z"));

  // A reconnecting client gets what came after the last id it saw, and nothing before.
  Stream resumed(d.Url("/events"), {"Last-Event-ID: " + events[0].id});
  REQUIRE(resumed.WaitFor("\"kind\":\"finished\",\"deployment\":\"" + web + "\""));
  const auto again = Of(EventsOf(resumed.Text()), web);
  REQUIRE(again.size() == 3);
  CHECK(again[0].kind == "started");
  CHECK(again[0].id == events[1].id);
  CHECK(again[2].id == events[3].id);
  // An id this process never gave (a podcd before a restart): reset.
  Stream stale(d.Url("/events"), {"Last-Event-ID: 987654"});
  CHECK(stale.WaitFor("event: reset\n"));

  const std::string db = Deploy(d, "db");
  REQUIRE(db_only.WaitFor("\"kind\":\"finished\",\"deployment\":\"" + db + "\""));
  CHECK(db_only.Text().find(web) == std::string::npos);
  CHECK(Call("GET", d.Url("/events?stack=No%20Such")).status == 400);
}

TEST_CASE("GET /events: a reader that never reads is dropped; the queue's runs go on at full speed") {
  test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, 0);
  REQUIRE(d.port() != 0);
  Stream reader(d.Url("/events"));
  REQUIRE(reader.Status() == 200);
  // Deployments one after another (each waited for): their pace without a stuck reader...
  auto run = [&](int n) {
    const auto start = Clock::now();
    std::string last;
    for (int i = 0; i < n; ++i) last = Deploy(d, i % 2 ? "web" : "db", "?wait=30");
    return std::make_pair(Clock::now() - start, last);
  };
  const auto [before, first_last] = run(40);
  // ...and with one, until it is dropped for holding too much unsent (at most 1,500 runs).
  const int stuck = StuckReader(d.port());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Clock::duration with_stuck{};
  int runs = 0;
  std::string last;
  while (Dropped(d) < 1 && runs < 1500) {
    auto [took, id] = run(20);
    with_stuck += took;
    runs += 20;
    last = id;
  }
  INFO("runs with the stuck reader: " << runs);
  CHECK(Dropped(d) == 1);
  // Publishing never waited on the stuck reader: the pace per run is about the same.
  const double per_run_before = std::chrono::duration<double>(before).count() / 40;
  const double per_run_stuck = std::chrono::duration<double>(with_stuck).count() / std::max(runs, 1);
  INFO("seconds per run: before " << per_run_before << ", with a stuck reader " << per_run_stuck);
  CHECK(per_run_stuck < per_run_before * 3 + 0.01);
  // The reader that reads got every event, the last run's included.
  CHECK(reader.WaitFor("\"kind\":\"finished\",\"deployment\":\"" + last + "\""));
  // The stuck one's connection ends: what the kernel still held, then the end.
  std::string rest;
  char buf[65536];
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  bool ended = false;
  while (Clock::now() < deadline) {
    pollfd p{stuck, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(stuck, buf, sizeof buf, 0);
    if (n <= 0) {
      ended = true;
      break;
    }
    rest.append(buf, static_cast<std::size_t>(n));
  }
  ::close(stuck);
  CHECK(ended);
  CHECK(rest.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(rest.find("\"deployment\":\"" + last + "\"") == std::string::npos);  // it was cut off before
  CHECK(Call("GET", d.Url("/health")).status == 200);
}

TEST_CASE("GET /events: past the cap of open streams, 503") {
  test::TempDir dir;
  WriteConfig(dir);
  Daemon d(dir, 0);
  REQUIRE(d.port() != 0);
  std::vector<std::unique_ptr<Stream>> open;
  for (int i = 0; i < 32; ++i) {
    open.push_back(std::make_unique<Stream>(d.Url("/events")));
    REQUIRE(open.back()->Status() == 200);
  }
  auto refused = Call("GET", d.Url("/events"), {}, "", 10);
  CHECK(refused.status == 503);
  CHECK(refused.body.find("too many event streams") != std::string::npos);
  open.pop_back();  // a client leaves: its place is free again
  bool admitted = false;
  for (int i = 0; i < 300 && !admitted; ++i) {
    Stream next(d.Url("/events"));
    admitted = next.Status() == 200;
    if (!admitted) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(admitted);
}

TEST_CASE("GET /events: with users, a session or a token with read scope; nothing for anyone else") {
  test::TempDir dir;
  const auth::Argon2Cost cheap{64, 1, 1};
  auto users = dir.Write("users", "USER:bob:" + *auth::HashPassword("bob-pw", cheap) + "\n");
  ::chmod(users.c_str(), 0600);
  WriteConfig(dir, "auth:\n  users_file: " + users.string() + "\n");
  std::filesystem::create_directories(dir / "state");
  auto read = auth::MintToken("bob", auth::Scope::kRead, 1);
  REQUIRE(auth::SaveTokens(auth::TokensFile(dir / "state"), {read->record}));
  Daemon d(dir, 0);
  REQUIRE(d.port() != 0);
  auto anonymous = Call("GET", d.Url("/events"), {"Accept: text/event-stream"}, "", 10);
  CHECK(anonymous.status == 401);
  CHECK(anonymous.body.find("event:") == std::string::npos);
  CHECK(Call("GET", d.Url("/events"), {"Authorization: Bearer " + read->token + "x"}, "", 10).status == 401);
  Stream token(d.Url("/events"), {"Authorization: Bearer " + read->token});
  CHECK(token.Status() == 200);
  auto login =
      Call("POST", d.Url("/login"), {"Content-Type: application/x-www-form-urlencoded", "Accept: text/html"},
           "username=bob&password=bob-pw", 10);
  REQUIRE(login.status == 303);
  const std::string cookie = login.Header("Set-Cookie").substr(0, login.Header("Set-Cookie").find(';'));
  Stream session(d.Url("/events"), {"Cookie: " + cookie});
  CHECK(session.Status() == 200);
}
