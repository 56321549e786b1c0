// The state files that hold something for each stack (images.json, stack-controls.json,
// uploads.json) share one envelope, {"version": 1, "stacks": {"<stack>": <value>, ...}}, one
// reader of it, and one way to be changed: read whole, changed, written atomically, under the
// lock beside the file (FileLock::Acquire(<file>.lock)) that every process changing it takes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.hpp"
#include "util/file_lock.hpp"
#include "util/json.hpp"

namespace podcd::state {

// The envelope around what `stacks` writes (each stack's key and value), newline-terminated.
std::string EncodeStacksFile(const std::function<void(json::Writer&)>& stacks);

// Hands one stack's value to its reader with the context of its errors (`where: stack "NAME"`).
using StackReader = std::function<Expected<void>(const std::string& stack, const rapidjson::Value& value,
                                                 const std::string& at)>;
// Checks the envelope of `text` (named `where` in its errors) and each stack's name, then hands
// each stack to `read`. The first error ends the reading.
Expected<void> DecodeStacksFile(std::string_view text, const std::string& where, const StackReader& read);

// The file's text, or nullopt when there is no such file; over `limit` bytes is an error.
Expected<std::optional<std::string>> ReadStacksFile(const std::filesystem::path& file, std::size_t limit);

// Takes the lock beside `file` that whoever changes it holds, waiting for it.
Expected<FileLock> LockStacksFile(const std::filesystem::path& file);

}  // namespace podcd::state
