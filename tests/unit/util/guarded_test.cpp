// Guarded<T>: the data is reached only under its lock; waiters wait on that same lock.
#include "util/guarded.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace podcd;

TEST_CASE("Guarded: Wait returns once the predicate holds on the guarded value") {
  Guarded<std::vector<int>> values;
  std::condition_variable cv;
  std::thread producer([&] {
    for (int i = 0; i < 5; ++i) {
      values.Lock()->push_back(i);
      cv.notify_all();
    }
  });
  {
    auto locked = values.Lock();
    locked.Wait(cv, [](const std::vector<int>& v) { return v.size() == 5; });
    CHECK(*locked == std::vector<int>{0, 1, 2, 3, 4});
  }
  producer.join();
}

TEST_CASE("Guarded: WaitFor gives up with the predicate false; Unlocked lets others in") {
  Guarded<int> value(0);
  std::condition_variable cv;
  auto locked = value.Lock();
  CHECK_FALSE(locked.WaitFor(cv, std::chrono::milliseconds(10), [](int v) { return v == 1; }));
  // Another thread can take the lock while this one runs slow work unlocked.
  locked.Unlocked([&] { std::thread([&] { *value.Lock() = 7; }).join(); });
  CHECK(*locked == 7);
}

TEST_CASE("Guarded: a const owner reads through a const lock") {
  const Guarded<std::string> text("abc");
  CHECK(text.Lock()->size() == 3);
}
