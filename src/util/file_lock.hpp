// FileLock: an exclusive flock(2) on a file, held for the object's lifetime. The state
// directory's lock keeps `podcd deploy` from racing a running daemon; the state files that
// processes change in turn (images.json, stack-controls.json, uploads.json, the repository's
// sync) are changed under a lock beside them.
#pragma once

#include <string>

#include "util/error.hpp"

namespace podcd {

class FileLock {
 public:
  // Non-blocking: kAlreadyExists when another process holds it.
  static Expected<FileLock> TryAcquire(const std::string& path);
  // Blocking: waits while another process holds it (a signal's interruption is retried).
  static Expected<FileLock> Acquire(const std::string& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace podcd
