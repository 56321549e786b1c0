// The audit trail: who did what, from where, when, and how it ended. One JSON object a line in
// <state_dir>/audit.log (mode 0600), appended without fsync (a crash of podcd loses nothing,
// the page cache has it; a power cut may lose the last lines). The newest `max_entries` are
// kept in memory and survive restarts; the file is rewritten with them once it holds more
// than twice that. A torn last line (a crash mid-write) is skipped on open.
//
// Entries never hold secrets: the caller writes none (no token, password, cookie or body),
// and as a second line of defence every field goes through log::MaskSecrets. Every field is
// capped (kMaxAuditFieldBytes, detail kMaxAuditDetailBytes) so an entry stays small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::state {

struct AuditEntry {
  std::int64_t at_ms = 0;  // Unix epoch milliseconds; Append sets it when 0
  std::string actor;    // "user:NAME", "token:ID:NAME", "api-token", "loopback", "webhook:...", "poll", "cli"
  std::string address;  // the client address, "" when none (the CLI, a poll)
  std::string action;   // e.g. "login", "deploy-all-changed", "sync", "recreate", "token-create"
  std::string target;   // e.g. a stack name, a deployment id, a user name; "" when none
  std::string result;   // e.g. "accepted", "denied", "failed", "ok"
  std::string detail;   // a short free text: a deployment id, why it was refused
};

inline constexpr std::size_t kMaxAuditFieldBytes = 256;
inline constexpr std::size_t kMaxAuditDetailBytes = 1024;

// The entry with every field masked (log::MaskSecrets) and cut to its cap, at a UTF-8
// character boundary.
AuditEntry Bounded(AuditEntry entry);

// One line, without the newline: {"at_ms":..,"at":"RFC 3339","actor":..,"address":..,
// "action":..,"target":..,"result":..,"detail":..}. Valid JSON and UTF-8 whatever the bytes.
std::string ToJson(const AuditEntry& entry);
// nullopt for a line that is no JSON object or has no action.
std::optional<AuditEntry> AuditEntryFromJson(std::string_view line);

// Substrings an entry's fields must contain (case-sensitive); empty matches every entry.
struct AuditFilter {
  std::string actor;
  std::string action;
  std::string target;
  [[nodiscard]] bool Matches(const AuditEntry& e) const;
};

struct AuditOptions {
  std::size_t max_entries = 10000;
};

// Thread-safe: every method may be called from any thread.
class AuditLog {
 public:
  // Creates `state_dir` when missing, loads <state_dir>/audit.log (keeping the newest
  // max_entries), and rewrites the file when it held more than that or ended in a torn line.
  static Expected<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& state_dir,
                                                  AuditOptions options = {});
  // Appends one entry (bounded, at_ms set when 0) to memory and to the file.
  Expected<void> Append(AuditEntry entry);
  // The newest first, at most `limit`, those that match `filter`.
  [[nodiscard]] std::vector<AuditEntry> List(std::size_t limit, const AuditFilter& filter = {}) const;
  [[nodiscard]] std::size_t Size() const;
  [[nodiscard]] std::filesystem::path Path() const { return path_; }

  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

 private:
  AuditLog(std::filesystem::path path, AuditOptions options);
  struct Data {
    std::deque<AuditEntry> entries;  // oldest first
    int fd = -1;
    std::size_t lines = 0;  // lines in the file; rewritten when more than 2 x max_entries
  };
  Expected<void> Load(Data& data);
  Expected<void> Rewrite(Data& data);

  const std::filesystem::path path_;
  const AuditOptions options_;
  Guarded<Data> data_;
};

}  // namespace podcd::state
