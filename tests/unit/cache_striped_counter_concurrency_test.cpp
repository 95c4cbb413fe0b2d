// The cache's hit counter (src/cache/striped_counter.hpp): exact sums whatever the threads,
// including more threads than it has slots, and a thread that moves between counters.
#include <gtest/gtest.h>

#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "cache/striped_counter.hpp"

namespace asyncredis::detail {
namespace {

TEST(StripedCounter, CountsOneThreadsAdds) {
  StripedCounter counter;
  EXPECT_EQ(counter.load(), 0u);
  counter.add();
  counter.add(41);
  EXPECT_EQ(counter.load(), 42u);
}

TEST(StripedCounter, SumsManyThreadsMoreThanItHasSlots) {
  StripedCounter counter;
  constexpr int threads = 40;  // more than its 16 slots: the last ones share an atomic
  constexpr int adds = 50000;
  // All start together, so that a slot two threads shared would lose counts.
  std::latch start(threads + 1);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&counter, &start] {
      start.arrive_and_wait();
      for (int i = 0; i < adds; ++i) counter.add();
    });
  }
  start.arrive_and_wait();
  // Reads while the threads add: never more than was added, never less than before.
  std::uint64_t seen = 0;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t now = counter.load();
    EXPECT_GE(now, seen);
    EXPECT_LE(now, std::uint64_t{threads} * adds);
    seen = now;
  }
  for (auto& w : workers) w.join();
  EXPECT_EQ(counter.load(), std::uint64_t{threads} * adds);
}

TEST(StripedCounter, AThreadMovingBetweenCountersCountsEachRight) {
  StripedCounter a;
  StripedCounter b;
  std::thread other([&] {
    for (int i = 0; i < 100; ++i) {
      a.add();
      b.add(2);
    }
  });
  for (int i = 0; i < 100; ++i) {
    b.add();
    a.add(3);
  }
  other.join();
  EXPECT_EQ(a.load(), 400u);
  EXPECT_EQ(b.load(), 300u);
  {
    StripedCounter gone;  // a counter whose slot this thread remembers, then destroyed
    gone.add();
  }
  StripedCounter next;  // may reuse the address: its count starts at 0 all the same
  next.add(5);
  EXPECT_EQ(next.load(), 5u);
  // More counters than a thread remembers, in turns: each still counts its own.
  StripedCounter c[6];
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 6; ++i) c[i].add(static_cast<std::uint64_t>(i));
  }
  for (int i = 0; i < 6; ++i) EXPECT_EQ(c[i].load(), 3u * static_cast<std::uint64_t>(i));
}

}  // namespace
}  // namespace asyncredis::detail
