// Pure parts of the client (log frames, error mapping, signals, URL encoding) and the
// transport's failure modes against sockets that are not Podman.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "config/config.hpp"
#include "podman/client.hpp"
#include "podman/spec.hpp"
#include "support/temp_dir.hpp"
#include "util/metrics.hpp"

using namespace podcd;
using namespace podcd::podman;
using namespace std::chrono_literals;

namespace {

std::string Frame(char stream, std::string_view payload) {
  std::string f(8, '\0');
  f[0] = stream;
  const auto n = static_cast<std::uint32_t>(payload.size());
  f[4] = static_cast<char>((n >> 24) & 0xFF);
  f[5] = static_cast<char>((n >> 16) & 0xFF);
  f[6] = static_cast<char>((n >> 8) & 0xFF);
  f[7] = static_cast<char>(n & 0xFF);
  return f + std::string(payload);
}

}  // namespace

TEST_CASE("DemuxLogs splits frames by stream", "[podman]") {
  const std::string body = Frame(1, "out1\n") + Frame(2, "err1\n") + Frame(1, "out2\n");
  auto logs = DemuxLogs(body);
  CHECK(logs.out == "out1\nout2\n");
  CHECK(logs.err == "err1\n");
  CHECK(logs.combined == "out1\nerr1\nout2\n");

  const std::string big(70000, 'x');
  CHECK(DemuxLogs(Frame(1, big)).out == big);
}

TEST_CASE("DemuxLogs keeps a TTY's raw text and truncated frames as stdout", "[podman]") {
  CHECK(DemuxLogs("hello from a tty\n").out == "hello from a tty\n");
  const std::string truncated = Frame(1, "abcdef").substr(0, 10);
  CHECK(DemuxLogs(truncated).out == truncated);
  CHECK(DemuxLogs("").out.empty());
}

TEST_CASE("ErrorFromResponse keeps Podman's words", "[podman]") {
  auto e = ErrorFromResponse(
      500,
      R"({"cause":"address already in use","message":"rootlessport listen tcp 127.0.0.1:8080: bind: address already in use","response":500})",
      "podman container start web_1");
  CHECK(e.message.find("address already in use") != std::string::npos);
  CHECK(e.context == "podman container start web_1");
  CHECK(e.code == ErrorCode::kAlreadyExists);

  auto nf = ErrorFromResponse(
      404,
      R"({"cause":"no such container","message":"no container with name or ID \"x\" found: no such container","response":404})",
      "c");
  CHECK(nf.code == ErrorCode::kNotFound);
  CHECK(nf.message == "no container with name or ID \"x\" found: no such container");

  auto cause_only = ErrorFromResponse(500, R"({"cause":"boom","message":"it failed","response":500})", "c");
  CHECK(cause_only.message == "it failed: boom");

  auto vol = ErrorFromResponse(
      500,
      R"({"cause":"volume already exists","message":"volume with name v already exists: volume already exists","response":500})",
      "c");
  CHECK(vol.code == ErrorCode::kAlreadyExists);

  auto text = ErrorFromResponse(502, "Bad Gateway", "c");
  CHECK(text.message == "Podman answered HTTP 502: Bad Gateway");
  auto empty = ErrorFromResponse(500, "", "c");
  CHECK(empty.message == "Podman answered HTTP 500");
}

TEST_CASE("ParseSignal accepts names and numbers", "[podman]") {
  CHECK(ParseSignal("SIGTERM") == 15);
  CHECK(ParseSignal("term") == 15);
  CHECK(ParseSignal("SIGINT") == 2);
  CHECK(ParseSignal("9") == 9);
  CHECK(ParseSignal("SIGWINCH") == 28);
  CHECK_FALSE(ParseSignal("SIGNOPE").has_value());
  CHECK_FALSE(ParseSignal("0").has_value());
  CHECK_FALSE(ParseSignal("").has_value());
  CHECK_FALSE(ParseSignal("999").has_value());
}

TEST_CASE("UrlEncode escapes all but unreserved characters", "[podman]") {
  CHECK(curl::UrlEncode("a-b_c.d~e") == "a-b_c.d~e");
  CHECK(curl::UrlEncode("127.0.0.1:5000/bb:1") == "127.0.0.1%3A5000%2Fbb%3A1");
  CHECK(curl::UrlEncode(R"({"label":["a=b"]})") == "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
}

TEST_CASE("a missing socket is kUnavailable and names the socket", "[podman]") {
  test::TempDir dir;
  ClientOptions o;
  o.socket_path = (dir / "nothing.sock").string();
  o.timeout = 2s;
  Client client(o);
  auto ping = client.Ping();
  REQUIRE_FALSE(ping.has_value());
  CHECK(ping.error().code == ErrorCode::kUnavailable);
  CHECK(ping.error().message.find("nothing.sock") != std::string::npos);
  CHECK(ping.error().context == "podman ping");
}

TEST_CASE("the call-latency metric is labelled by the kind of call, never by its target", "[podman]") {
  test::TempDir dir;
  ClientOptions o;
  o.socket_path = (dir / "nothing.sock").string();
  o.timeout = 2s;
  Client client(o);
  (void)client.Pull("localhost/secret-project:v9", PullPolicy::kMissing);
  (void)client.StartContainer("web_1");
  (void)client.ImageExists("localhost/secret-project:v9");
  dir.Write("ctx/Containerfile", "FROM scratch\n");
  BuildRequest build;
  build.context_dir = (dir / "ctx").string();
  build.dockerfile = "Containerfile";
  build.tags = {"localhost/secret-project:v9"};
  (void)client.Build(build);
  const std::string text = metrics::Render();
  CHECK(text.find("call=\"build\"") != std::string::npos);
  CHECK(text.find("call=\"pull\"") != std::string::npos);
  CHECK(text.find("call=\"container start\"") != std::string::npos);
  CHECK(text.find("call=\"image exists\"") != std::string::npos);
  CHECK(text.find("secret-project") == std::string::npos);
  CHECK(text.find("web_1") == std::string::npos);
}

TEST_CASE("a peer that never answers hits the call's timeout", "[podman]") {
  test::TempDir dir;
  const std::string path = (dir / "silent.sock").string();
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(fd, 4) == 0);  // the kernel completes connects; nobody ever reads

  ClientOptions o;
  o.socket_path = path;
  o.timeout = 200ms;
  Client client(o);
  auto ping = client.Ping();
  close(fd);
  REQUIRE_FALSE(ping.has_value());
  CHECK(ping.error().code == ErrorCode::kTimeout);
  CHECK(ping.error().message.find("200 ms") != std::string::npos);
}

TEST_CASE("OptionsFromConfig maps socket, auth file and timeouts", "[podman]") {
  config::Config c;
  c.podman.socket = "/run/podman/podman.sock";
  c.podman.auth_file = "/etc/podcd/auth.json";
  c.podman.timeout = std::chrono::minutes(5);
  auto o = OptionsFromConfig(c);
  CHECK(o.socket_path == "/run/podman/podman.sock");
  CHECK(o.auth_file == "/etc/podcd/auth.json");
  CHECK(o.long_timeout == std::chrono::minutes(5));
  CHECK(o.timeout == std::chrono::seconds(30));

  c.podman.timeout = std::chrono::seconds(10);
  o = OptionsFromConfig(c);
  CHECK(o.long_timeout == std::chrono::seconds(10));
  CHECK(o.timeout == std::chrono::seconds(10));  // no call may outlast podman.timeout
}
