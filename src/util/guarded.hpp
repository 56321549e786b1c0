// Guarded<T>: shared mutable data that lives inside its lock (PowerDNS LockGuarded).
#pragma once

#include <mutex>
#include <utility>

namespace podcd {

template <typename T>
class Guarded {
 public:
  template <typename... Args>
  explicit Guarded(Args&&... args) : value_(std::forward<Args>(args)...) {}

  class Locked {
   public:
    Locked(std::mutex& m, T& v) : lock_(m), value_(v) {}
    T& operator*() { return value_; }
    T* operator->() { return &value_; }

   private:
    std::unique_lock<std::mutex> lock_;
    T& value_;
  };

  Locked Lock() { return Locked(mutex_, value_); }

 private:
  std::mutex mutex_;
  T value_;
};

}  // namespace podcd
