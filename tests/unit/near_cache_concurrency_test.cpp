// The near cache's store under threads (run under TSan by scripts/test.sh): 4 readers that
// look up, begin reads and store, and 1 invalidator that writes "versions" and invalidates,
// as Redis's invalidation messages would. The invariant: once the invalidator has published
// version v of a key and invalidated it, no reader that begins afterwards can see an older one.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <iostream>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cache/near_cache.hpp"

namespace asyncredis::detail {
namespace {

using Clock = NearCache::Clock;

constexpr int kKeys = 32;
constexpr int kReaders = 4;
constexpr int kWrites = 20'000;

TEST(NearCacheConcurrency, FourReadersOneInvalidatorNeverSeeAnOverwrittenValue) {
  NearCache cache(NearCacheLimits{16, 1u << 20, 4});  // small: evictions happen too
  // The "server": the current version of each key.
  std::array<std::atomic<int>, kKeys> server{};
  // The version of each key whose invalidation has been delivered: a hit must be as new.
  std::array<std::atomic<int>, kKeys> invalidated{};
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> violations{0}, hits{0};
  std::latch start(kReaders + 1);
  const auto later = Clock::now() + std::chrono::hours(1);

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      start.arrive_and_wait();
      unsigned i = static_cast<unsigned>(r);
      while (!done.load(std::memory_order_acquire)) {
        const int k = static_cast<int>((i = i * 1103515245u + 12345u) >> 16) % kKeys;
        const std::string key = "k" + std::to_string(k);
        const int floor = invalidated[k].load(std::memory_order_acquire);
        if (auto hit = cache.lookup(key, Clock::now())) {
          hits.fetch_add(1, std::memory_order_relaxed);
          if (*static_cast<const int*>(hit.get()) < floor) violations.fetch_add(1);
          continue;
        }
        NearCache::Ticket ticket = cache.begin_read(key);
        const int read = server[k].load(std::memory_order_acquire);  // the "GET"
        if (i % 7 == 0) {
          cache.abandon_read(std::move(ticket));
        } else {
          cache.finish_read(std::move(ticket), std::make_shared<const int>(read), 8, later);
        }
      }
    });
  }
  start.arrive_and_wait();
  for (int w = 1; w <= kWrites; ++w) {
    const int k = w % kKeys;
    server[k].store(w, std::memory_order_release);  // the write...
    if (w % 1000 == 0) {
      cache.flush();  // ... or a FLUSHDB / tracking lost now and then
    } else {
      cache.invalidate("k" + std::to_string(k));  // ... and its invalidation
    }
    invalidated[k].store(w, std::memory_order_release);
  }
  done.store(true, std::memory_order_release);
  for (std::thread& t : readers) t.join();

  EXPECT_EQ(violations.load(), 0u);
  const NearCacheCounters c = cache.counters();
  EXPECT_EQ(c.flushes, static_cast<std::uint64_t>(kWrites / 1000));
  EXPECT_LE(c.entries, 16u);
  std::cout << "hits " << hits.load() << ", refused stores " << c.refused_stores << "\n";
}

}  // namespace
}  // namespace asyncredis::detail
