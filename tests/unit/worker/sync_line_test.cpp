#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <string>

#include "worker/sync.hpp"

using namespace podcd;
using worker::FormatSyncLine;
using worker::ParseSyncLine;
using worker::SyncResult;

// The `__sync` child's answer, byte for byte: the parent parses it, and operators read it when a
// sync fails, so its form is pinned (escapes as the project's escaper writes them).
TEST_CASE("sync line: exact bytes of a success") {
  CHECK(FormatSyncLine(SyncResult{"0123abcd", true, false}) ==
        R"({"ok":true,"commit":"0123abcd","fetched":true,"changed":false})");
  CHECK(FormatSyncLine(SyncResult{"", false, true}) ==
        R"({"ok":true,"commit":"","fetched":false,"changed":true})");
}

TEST_CASE("sync line: exact bytes of a failure with quotes, control characters and bad UTF-8") {
  const std::string message = "host \"x\\y/z\" said\x01\x08\n caf\xc3\xa9 \xff";
  auto line = FormatSyncLine(Fail(ErrorCode::kPermissionDenied, message));
  CHECK(line ==
        "{\"ok\":false,\"error\":\"host \\\"x\\\\y/z\\\" said\\u0001\\u0008\\n caf\xc3\xa9 \xef\xbf\xbd\","
        "\"code\":\"permission_denied\"}");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(line.data(), line.size());
  CHECK_FALSE(doc.HasParseError());
  auto back = ParseSyncLine(line);
  REQUIRE_FALSE(back);
  CHECK(back.error().code == ErrorCode::kPermissionDenied);
  CHECK(back.error().message == "host \"x\\y/z\" said\x01\x08\n caf\xc3\xa9 \xef\xbf\xbd");
}

TEST_CASE("sync line: a commit with odd bytes still round-trips as valid JSON") {
  auto line = FormatSyncLine(SyncResult{"ab\"\\\x1f\xe2\x82", false, false});
  CHECK(line ==
        "{\"ok\":true,\"commit\":\"ab\\\"\\\\\\u001f\xef\xbf\xbd\",\"fetched\":false,\"changed\":false}");
  auto back = ParseSyncLine(line);
  REQUIRE(back);
  CHECK(back->commit == "ab\"\\\x1f\xef\xbf\xbd");
}
