// The streaming multipart reader and the request reader of POST /upload: every split of the
// bytes gives the same parts; malformed bodies fail with a reason.
#include "http/multipart.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "http/request_reader.hpp"

using namespace podcd::http;

namespace {

struct Part {
  std::string name;
  std::string filename;
  std::string content_type;
  std::string data;
  bool ended = false;
};

class Collect final : public PartSink {
 public:
  bool Begin(const PartHead& head) override {
    parts.push_back({head.name, head.filename, head.content_type, "", false});
    return true;
  }
  bool Data(std::string_view bytes) override {
    if (parts.empty()) return false;
    parts.back().data.append(bytes);
    pieces = std::max(pieces, bytes.size());
    return true;
  }
  bool End() override {
    parts.back().ended = true;
    return true;
  }
  std::vector<Part> parts;
  std::size_t pieces = 0;
};

const std::string kBoundary = "----podcdXyZ";

std::string Body(const std::string& project, const std::string& image) {
  return "--" + kBoundary +
         "\r\n"
         "Content-Disposition: form-data; name=\"project\"\r\n\r\n" +
         project + "\r\n--" + kBoundary +
         "\r\n"
         "Content-Disposition: form-data; name=\"image\"; filename=\"app.tar\"\r\n"
         "Content-Type: application/x-tar\r\n\r\n" +
         image + "\r\n--" + kBoundary + "--\r\n";
}

}  // namespace

TEST_CASE("multipart: the boundary is read from the Content-Type") {
  CHECK(MultipartBoundary("multipart/form-data; boundary=abc") == "abc");
  CHECK(MultipartBoundary("Multipart/Form-Data;boundary=\"a b:c\"") == "a b:c");
  CHECK(MultipartBoundary("multipart/form-data; charset=utf-8; boundary=x1") == "x1");
  CHECK_FALSE(MultipartBoundary("multipart/form-data").has_value());
  CHECK_FALSE(MultipartBoundary("multipart/form-data; boundary=").has_value());
  CHECK_FALSE(MultipartBoundary("application/json; boundary=x").has_value());
  CHECK_FALSE(MultipartBoundary("multipart/form-data; boundary=" + std::string(71, 'a')).has_value());
}

TEST_CASE("multipart: split at every byte boundary, the parts are the same") {
  // Data that holds CRLFs, dashes and most of the delimiter, but never all of it.
  const std::string image = "\r\n--" + kBoundary.substr(0, 8) + "x\r\n-" + std::string(300, 'i') + "\r\n\r";
  const std::string body = Body("web", image);
  for (std::size_t split = 0; split <= body.size(); ++split) {
    Collect c;
    MultipartReader r(kBoundary, c);
    REQUIRE(r.Feed(body.substr(0, split)));
    REQUIRE(r.Feed(body.substr(split)));
    INFO("split at " << split);
    REQUIRE(r.Complete());
    REQUIRE(c.parts.size() == 2);
    CHECK(c.parts[0].name == "project");
    CHECK(c.parts[0].data == "web");
    CHECK(c.parts[1].name == "image");
    CHECK(c.parts[1].filename == "app.tar");
    CHECK(c.parts[1].content_type == "application/x-tar");
    CHECK(c.parts[1].data == image);
    CHECK(c.parts[1].ended);
  }
  // One byte at a time.
  Collect c;
  MultipartReader r(kBoundary, c);
  for (char ch : body) REQUIRE(r.Feed(std::string_view(&ch, 1)));
  CHECK(r.Complete());
  REQUIRE(c.parts.size() == 2);
  CHECK(c.parts[1].data == image);
}

TEST_CASE("multipart: a large part is handed on in pieces, never held whole") {
  const std::string image(1 << 20, 'z');
  const std::string body = Body("web", image);
  Collect c;
  MultipartReader r(kBoundary, c);
  for (std::size_t at = 0; at < body.size(); at += 4096) REQUIRE(r.Feed(body.substr(at, 4096)));
  CHECK(r.Complete());
  REQUIRE(c.parts.size() == 2);
  CHECK(c.parts[1].data == image);
  CHECK(c.pieces <= 4096 + 100);
}

TEST_CASE("multipart: malformed or unfinished bodies") {
  SECTION("no closing delimiter: not complete") {
    Collect c;
    MultipartReader r(kBoundary, c);
    const std::string body = Body("web", "data");
    REQUIRE(r.Feed(body.substr(0, body.size() - 10)));
    CHECK_FALSE(r.Complete());
  }
  SECTION("a part without a name") {
    Collect c;
    MultipartReader r(kBoundary, c);
    CHECK_FALSE(
        r.Feed("--" + kBoundary + "\r\nContent-Disposition: form-data\r\n\r\nx\r\n--" + kBoundary + "--"));
    CHECK(r.Error() == "a part has no field name");
  }
  SECTION("a part without headers") {
    Collect c;
    MultipartReader r(kBoundary, c);
    CHECK_FALSE(r.Feed("--" + kBoundary + "\r\n\r\nx\r\n--" + kBoundary + "--"));
    CHECK(r.Error() == "a part has no Content-Disposition: form-data header");
  }
  SECTION("garbage after a delimiter") {
    Collect c;
    MultipartReader r(kBoundary, c);
    CHECK_FALSE(r.Feed("--" + kBoundary + "XYZ\r\n"));
    CHECK(r.Error() == "a delimiter line of the body is malformed");
  }
  SECTION("endless part headers") {
    Collect c;
    MultipartReader r(kBoundary, c);
    CHECK_FALSE(r.Feed("--" + kBoundary + "\r\nX-A: " + std::string(9000, 'a')));
    CHECK(r.Error() == "a part's headers are longer than 8 KiB");
  }
  SECTION("a body with no part at all is only a preamble") {
    Collect c;
    MultipartReader r(kBoundary, c);
    REQUIRE(r.Feed("just some text, no delimiter"));
    CHECK_FALSE(r.Complete());
    CHECK(c.parts.empty());
  }
  SECTION("the sink stops the parse") {
    class Refuse final : public PartSink {
     public:
      bool Begin(const PartHead&) override { return false; }
      bool Data(std::string_view) override { return true; }
      bool End() override { return true; }
    } refuse;
    MultipartReader r(kBoundary, refuse);
    CHECK_FALSE(r.Feed(Body("web", "x")));
    CHECK(r.Error().empty());
  }
}

namespace {

// The body of `request` as the reader hands it on, fed in pieces of `step` bytes.
std::string Read(const std::string& request, std::size_t step, RequestReader& r) {
  std::string body;
  bool started = false;
  for (std::size_t at = 0; at < request.size(); at += step) {
    if (!r.Feed(std::string_view(request).substr(at, step))) return "FAILED";
    if (r.HeadDone() && !started) {
      started = true;
      if (!r.StartBody([&](std::string_view b) {
            body.append(b);
            return true;
          }))
        return "FAILED";
    }
  }
  return body;
}

}  // namespace

TEST_CASE("request reader: a Content-Length body, in every split") {
  const std::string request =
      "POST /deploy/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
      "Content-Length: 11\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\n\r\nhello world";
  for (std::size_t step = 1; step <= request.size(); ++step) {
    RequestReader r(16 << 10);
    INFO("step " << step);
    CHECK(Read(request, step, r) == "hello world");
    CHECK(r.BodyDone());
    CHECK(r.Head().method == "POST");
    CHECK(r.Head().Path() == "/deploy/upload");
    CHECK(r.Head().Get("content-type") == "multipart/form-data; boundary=b");
    CHECK(r.Head().All("X-Forwarded-For") == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
    CHECK(r.ContentLength() == 11u);
  }
}

TEST_CASE("request reader: a chunked body, in every split") {
  const std::string request =
      "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: y\r\n\r\n";
  for (std::size_t step = 1; step <= request.size(); ++step) {
    RequestReader r(16 << 10);
    INFO("step " << step);
    CHECK(Read(request, step, r) == "hello world");
    CHECK(r.BodyDone());
    CHECK_FALSE(r.ContentLength().has_value());
  }
}

TEST_CASE("request reader: refusals") {
  auto status = [](const std::string& request) {
    RequestReader r(256);
    if (Read(request, request.size(), r) != "FAILED") return 0;
    return r.Status();
  };
  CHECK(status("POST /upload HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc") == 400);
  CHECK(status("POST /upload HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc") == 501);
  CHECK(status("POST /upload HTTP/1.1\r\n\r\n") == 411);
  CHECK(status("POST /upload HTTP/1.1\r\nContent-Length: x\r\n\r\n") == 400);
  CHECK(status("POST /upload HTTP/1.1\r\nX: " + std::string(300, 'a') + "\r\n\r\n") == 431);
  CHECK(status("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == 400);
  CHECK(status("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n") == 400);
  CHECK(status("GARBAGE\r\n\r\n") == 400);
}

TEST_CASE("request reader: the request line is recognised before Pistache sees it") {
  CHECK(RequestLineIs("POST /upload HTTP/1.1\r\n", "POST", "/upload"));
  CHECK(RequestLineIs("POST /upload?x=1 HTTP/1.1\r\n", "POST", "/upload"));
  CHECK(RequestLineIs("POST /deploy/upload HTTP/1.1", "POST", "/deploy/upload"));
  CHECK_FALSE(RequestLineIs("POST /uploads HTTP/1.1", "POST", "/upload"));
  CHECK_FALSE(RequestLineIs("GET /upload HTTP/1.1", "POST", "/upload"));
  CHECK_FALSE(RequestLineIs("POST /upload", "POST", "/upload"));
  CHECK_FALSE(RequestLineIs("POSTX /upload ", "POST", "/upload"));
}
