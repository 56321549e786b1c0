// Logging facade: the core calls Info()/Warn()/... without knowing the sink.
// Text lines for terminals, JSON lines (ts, level, msg, fields) for machines.
// Registered secrets are replaced by "***" in every line, whatever the caller passed: in the
// message and each field value before they are escaped.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class Format { kText, kJson };

std::string_view ToString(Level level);
// Parses "debug", "info", "warn"/"warning", "error".
bool ParseLevel(std::string_view text, Level& out);
bool ParseFormat(std::string_view text, Format& out);

struct Field {
  std::string_view key;
  std::string value;
  Field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  template <typename N>
  requires std::is_arithmetic_v<N> Field(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
};
using Fields = std::initializer_list<Field>;

// Receives every formatted line that passes the level filter (no trailing newline).
using Sink = std::function<void(Level, std::string_view line)>;

// Process-wide settings. Defaults: text, info, stderr.
void Configure(Format format, Level level);
// Replaces the sink (nullptr restores stderr). Returns the previous sink.
Sink SetSink(Sink sink);
// Every later line has each occurrence of `secret` masked. Empty strings are ignored.
void AddSecret(std::string secret);
void ClearSecretsForTest();
// Masks every registered secret in `text` ("***"), as log lines are: for text that leaves the
// process another way (deployment records served by the API and kept on disk, worker events,
// plan output). Mask text before it is escaped (JSON, quoting), never after.
void MaskSecrets(std::string& text);
std::string Masked(std::string text);
// The registered secrets, longest first: what the daemon hands each worker (worker/protocol.hpp)
// so that both mask the same list.
std::vector<std::string> Secrets();
// The one masker: each occurrence of `secret` in `text` becomes "***" (nothing when empty).
void MaskSecret(std::string& text, std::string_view secret);

// A URL's userinfo is a credential (`https://user:token@host/...`; GitHub also takes a token
// as the user name). RedactUserinfo writes such a URL for humans: `https://***@host/...`; an
// ssh URL keeps its user name (`ssh://git@host/...`), only a password is redacted. Other text
// comes back unchanged. UrlSecrets is what to register: the password, or the user name of an
// http(s) URL that has no password, each as written and percent-decoded.
std::string RedactUserinfo(std::string_view url);
std::vector<std::string> UrlSecrets(std::string_view url);

bool Enabled(Level level);
void Write(Level level, std::string_view msg, Fields fields = {});

inline void Debug(std::string_view msg, Fields f = {}) { Write(Level::kDebug, msg, f); }
inline void Info(std::string_view msg, Fields f = {}) { Write(Level::kInfo, msg, f); }
inline void Warn(std::string_view msg, Fields f = {}) { Write(Level::kWarn, msg, f); }
inline void Error(std::string_view msg, Fields f = {}) { Write(Level::kError, msg, f); }

// Pure formatting, used by Write and by tests.
std::string FormatLine(Format format, Level level, std::chrono::system_clock::time_point ts,
                       std::string_view msg, const std::vector<std::pair<std::string, std::string>>& fields);
// RFC 3339 UTC timestamp with milliseconds: 2026-11-21T23:49:37.123Z
std::string Rfc3339(std::chrono::system_clock::time_point ts);

}  // namespace podcd::log
