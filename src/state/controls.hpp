// Per-stack controls an operator sets: a stack suspended (every reconcile leaves it alone) or
// pinned to the commit of an earlier successful deployment (deployed from that commit's files
// until unpinned). Kept in <state_dir>/stack-controls.json: the daemon writes it (the API, the
// CLI through the API), the `podcd __run` and `__stacks` workers read it. It survives restarts;
// a damaged file is an error naming the file, never an empty set of controls (that would
// silently deploy a stack someone suspended).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "util/error.hpp"

namespace podcd::state {

struct Suspension {
  std::string by;  // the actor word (state::Trigger::actor): "user:NAME", "api-token", "loopback", ...
  std::int64_t at_ms = 0;
  std::string note;  // optional, the operator's words
  bool operator==(const Suspension&) const = default;
};

struct Pin {
  std::string deployment;  // an earlier successful deployment of the stack
  std::string commit;      // the commit that deployment ran at
  std::string by;
  std::int64_t at_ms = 0;
  bool operator==(const Pin&) const = default;
};

struct StackControl {
  std::optional<Suspension> suspended;
  std::optional<Pin> pinned;
  [[nodiscard]] bool Empty() const { return !suspended && !pinned; }
  bool operator==(const StackControl&) const = default;
};

using StackControls = std::map<std::string, StackControl>;  // by stack name; no empty entries

// <state_dir>/stack-controls.json
std::filesystem::path StackControlsPath(const std::filesystem::path& state_dir);

// The file's text and back. Parsing refuses anything it does not understand, naming the stack
// and the field (`where` names the file in the error).
std::string EncodeStackControls(const StackControls& controls);
Expected<StackControls> DecodeStackControls(std::string_view json, const std::string& where);

// Reads the file: a missing file is no controls; an unreadable or damaged one is an error that
// names it.
Expected<StackControls> ReadStackControls(const std::filesystem::path& file);

// One stack's control as the API answers it:
// {"stack":"web","state":"suspended|pinned|active","suspended":{...}|null,"pinned":{...}|null}
std::string StackControlJson(const std::string& stack, const StackControl& control);
// {"by":..,"at_ms":..,"at":"RFC 3339","note":..} and {"deployment":..,"commit":..,"by":..,"at_ms":..,"at":..}
std::string SuspensionJson(const Suspension& s);
std::string PinJson(const Pin& p);
// "suspended by api-token at 2026-12-02T14:00:00.000Z (note: ...)"
std::string DescribeSuspension(const Suspension& s);

// Read-modify-write of the file, thread-safe and safe against other processes (an flock on
// <file>.lock). The write is atomic (temp file, fsync, rename) with mode 0600.
class StackControlsFile {
 public:
  explicit StackControlsFile(std::filesystem::path file) : file_(std::move(file)) {}
  [[nodiscard]] const std::filesystem::path& Path() const { return file_; }
  [[nodiscard]] Expected<StackControls> Read() const { return ReadStackControls(file_); }
  // Applies `change` to `stack`'s control (a default one when it has none) and writes the file;
  // an error from `change` leaves the file as it was. Returns the stack's new control.
  Expected<StackControl> Update(const std::string& stack,
                                const std::function<Expected<void>(StackControl&)>& change);

 private:
  std::filesystem::path file_;
  std::mutex mutex_;  // guards the file, not data: one writer of this process at a time
};

}  // namespace podcd::state
