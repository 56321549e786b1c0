// Guarded<T>: shared mutable data that lives inside its lock (PowerDNS LockGuarded). The data
// is reached only through Lock(); a waiter on a condition variable waits on the same lock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

namespace podcd {

template <typename T>
class Guarded {
 public:
  template <typename... Args>
  explicit Guarded(Args&&... args) : value_(std::forward<Args>(args)...) {}

  template <typename V>
  class LockedOf {
   public:
    LockedOf(std::mutex& m, V& v) : lock_(m), value_(v) {}
    V& operator*() { return value_; }
    V* operator->() { return &value_; }

    // Waits for a notification, the lock released meanwhile (for loops that look again).
    void Wait(std::condition_variable& cv) { cv.wait(lock_); }
    // Waits until pred(value) holds, the lock released meanwhile.
    template <typename Pred>
    void Wait(std::condition_variable& cv, Pred pred) {
      cv.wait(lock_, [&] { return pred(value_); });
    }
    // Waits for a notification or `deadline`, for loops that look again.
    template <typename Clock, typename Duration>
    std::cv_status WaitUntil(std::condition_variable& cv, std::chrono::time_point<Clock, Duration> deadline) {
      return cv.wait_until(lock_, deadline);
    }
    // Waits until pred(value) holds, giving up at `deadline`; returns pred(value).
    template <typename Clock, typename Duration, typename Pred>
    bool WaitUntil(std::condition_variable& cv, std::chrono::time_point<Clock, Duration> deadline,
                   Pred pred) {
      return cv.wait_until(lock_, deadline, [&] { return pred(value_); });
    }
    template <typename Rep, typename Period, typename Pred>
    bool WaitFor(std::condition_variable& cv, std::chrono::duration<Rep, Period> timeout, Pred pred) {
      return cv.wait_for(lock_, timeout, [&] { return pred(value_); });
    }
    // Runs f with the lock released (slow work between two looks at the data).
    template <typename F>
    decltype(auto) Unlocked(F&& f) {
      lock_.unlock();
      struct Relock {
        std::unique_lock<std::mutex>& l;
        ~Relock() { l.lock(); }
      } relock{lock_};
      return std::forward<F>(f)();
    }

   private:
    std::unique_lock<std::mutex> lock_;
    V& value_;
  };
  using Locked = LockedOf<T>;
  using ConstLocked = LockedOf<const T>;

  Locked Lock() { return Locked(mutex_, value_); }
  // For const members of the owner: a mutable Guarded is not needed to read.
  ConstLocked Lock() const { return ConstLocked(mutex_, value_); }

 private:
  mutable std::mutex mutex_;
  T value_;
};

}  // namespace podcd
