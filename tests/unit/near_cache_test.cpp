// The near cache's store (src/cache/near_cache.hpp) without a server: hits and expiry, the
// pending/dirty race between a GET's reply and an invalidation, epochs, LRU order and both
// bounds.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cache/near_cache.hpp"

namespace asyncredis::detail {
namespace {

using namespace std::chrono_literals;
using Clock = NearCache::Clock;

const Clock::time_point t0 = Clock::now();
const Clock::time_point later = t0 + 1h;

NearCache::Value value_of(int v) {
  return std::make_shared<const int>(v);
}
int int_of(const NearCache::Value& v) {
  return *static_cast<const int*>(v.get());
}

// One shard: LRU order and bounds are exact.
NearCache one_shard(std::size_t entries, std::size_t bytes = 1u << 20) {
  return NearCache(NearCacheLimits{entries, bytes, 1});
}

bool store(NearCache& cache, const std::string& key, int v, std::size_t size = 8,
           Clock::time_point expiry = later) {
  return cache.finish_read(cache.begin_read(key), value_of(v), size, expiry);
}

TEST(NearCache, StoresAndHits) {
  NearCache cache;
  EXPECT_EQ(cache.lookup("k", t0), nullptr);
  EXPECT_TRUE(store(cache, "k", 7));
  const auto hit = cache.lookup("k", t0);
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(int_of(hit), 7);
  const NearCacheCounters c = cache.counters();
  EXPECT_EQ(c.hits, 1u);
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.entries, 1u);
  EXPECT_EQ(c.bytes, 8u + 1u);  // value size plus the key
}

TEST(NearCache, ReplacesAValue) {
  NearCache cache;
  EXPECT_TRUE(store(cache, "k", 1));
  EXPECT_TRUE(store(cache, "k", 2));
  EXPECT_EQ(int_of(cache.lookup("k", t0)), 2);
  EXPECT_EQ(cache.counters().entries, 1u);
}

TEST(NearCache, ExpiredEntriesAreMissesAndGo) {
  NearCache cache;
  EXPECT_TRUE(store(cache, "k", 1, 8, t0 + 10s));
  EXPECT_NE(cache.lookup("k", t0 + 9s), nullptr);
  EXPECT_EQ(cache.lookup("k", t0 + 10s), nullptr);
  EXPECT_EQ(cache.counters().entries, 0u);
  EXPECT_EQ(cache.counters().bytes, 0u);
}

TEST(NearCache, InvalidateErases) {
  NearCache cache;
  store(cache, "a", 1);
  store(cache, "b", 2);
  const std::vector<std::string> keys{"a", "absent"};
  cache.invalidate(keys);
  EXPECT_EQ(cache.lookup("a", t0), nullptr);
  EXPECT_NE(cache.lookup("b", t0), nullptr);
  EXPECT_EQ(cache.counters().invalidations, 2u);
  EXPECT_EQ(cache.counters().entries, 1u);
}

// The race the pending mark exists for: the invalidation overtakes the GET's reply.
TEST(NearCache, AnInvalidationDuringAReadRefusesItsReply) {
  NearCache cache;
  NearCache::Ticket ticket = cache.begin_read("k");
  cache.invalidate("k");
  EXPECT_FALSE(cache.finish_read(std::move(ticket), value_of(1), 8, later));
  EXPECT_EQ(cache.lookup("k", t0), nullptr);
  EXPECT_EQ(cache.counters().refused_stores, 1u);
  // The mark is gone with its only reader: the next read stores.
  EXPECT_TRUE(store(cache, "k", 2));
}

TEST(NearCache, AnInvalidationOfAnotherKeyDoesNotDirty) {
  NearCache cache;
  NearCache::Ticket ticket = cache.begin_read("k");
  cache.invalidate("other");
  EXPECT_TRUE(cache.finish_read(std::move(ticket), value_of(1), 8, later));
}

// Two readers of one key: the one that began after the invalidation may store, the one that
// began before may not, in either finishing order.
TEST(NearCache, ConcurrentReadersOfOneKey) {
  NearCache cache;
  NearCache::Ticket before = cache.begin_read("k");
  cache.invalidate("k");
  NearCache::Ticket after = cache.begin_read("k");
  EXPECT_TRUE(cache.finish_read(std::move(after), value_of(2), 8, later));
  EXPECT_FALSE(cache.finish_read(std::move(before), value_of(1), 8, later));
  EXPECT_EQ(int_of(cache.lookup("k", t0)), 2);
}

TEST(NearCache, AbandonedReadsLeaveNoMark) {
  NearCache cache;
  NearCache::Ticket first = cache.begin_read("k");
  cache.abandon_read(std::move(first));
  cache.invalidate("k");  // no reader out: nothing to dirty
  EXPECT_TRUE(store(cache, "k", 1));
}

TEST(NearCache, FlushErasesDirtiesAndBumpsTheEpoch) {
  NearCache cache;
  store(cache, "a", 1);
  NearCache::Ticket pending = cache.begin_read("b");
  const std::uint64_t epoch = cache.epoch();
  cache.flush();
  EXPECT_EQ(cache.epoch(), epoch + 1);
  EXPECT_EQ(cache.lookup("a", t0), nullptr);
  EXPECT_FALSE(cache.finish_read(std::move(pending), value_of(2), 8, later));
  EXPECT_EQ(cache.counters().flushes, 1u);
  EXPECT_EQ(cache.counters().entries, 0u);
  EXPECT_TRUE(store(cache, "b", 3));
}

// A ticket from an older epoch is refused even when its key's mark looks clean: a reader
// that began before "tracking lost" has no guarantee its reply was watched.
TEST(NearCache, AnOldEpochTicketIsRefusedAfterNewReadersCame) {
  NearCache cache;
  NearCache::Ticket old = cache.begin_read("k");
  cache.flush();
  NearCache::Ticket fresh = cache.begin_read("k");
  EXPECT_FALSE(cache.finish_read(std::move(old), value_of(1), 8, later));
  EXPECT_TRUE(cache.finish_read(std::move(fresh), value_of(2), 8, later));
  EXPECT_EQ(int_of(cache.lookup("k", t0)), 2);
}

TEST(NearCache, EvictsTheLeastRecentlyUsedAtTheEntryBound) {
  NearCache cache = one_shard(2);
  store(cache, "a", 1);
  store(cache, "b", 2);
  EXPECT_NE(cache.lookup("a", t0), nullptr);  // "b" is now the least recently used
  store(cache, "c", 3);
  EXPECT_NE(cache.lookup("a", t0), nullptr);
  EXPECT_EQ(cache.lookup("b", t0), nullptr);
  EXPECT_NE(cache.lookup("c", t0), nullptr);
  EXPECT_EQ(cache.counters().evictions, 1u);
  EXPECT_EQ(cache.counters().entries, 2u);
}

TEST(NearCache, EvictsAtTheByteBound) {
  NearCache cache = one_shard(100, 30);  // each entry: 9 bytes of value + 1 of key
  store(cache, "a", 1, 9);
  store(cache, "b", 2, 9);
  store(cache, "c", 3, 9);
  EXPECT_EQ(cache.counters().bytes, 30u);
  store(cache, "d", 4, 9);
  EXPECT_EQ(cache.lookup("a", t0), nullptr);
  EXPECT_NE(cache.lookup("d", t0), nullptr);
  EXPECT_EQ(cache.counters().bytes, 30u);
  // Larger than the whole share: never stored, nothing evicted for it.
  EXPECT_FALSE(store(cache, "e", 5, 64));
  EXPECT_EQ(cache.counters().entries, 3u);
}

TEST(NearCache, BoundsAreSplitOverShards) {
  NearCache cache(NearCacheLimits{64, 1u << 20, 16});  // 4 entries a shard
  for (int i = 0; i < 1000; ++i) store(cache, "key:" + std::to_string(i), i);
  EXPECT_LE(cache.counters().entries, 64u);
  EXPECT_GT(cache.counters().evictions, 0u);
}

TEST(NearCache, ANullValueIsNotStored) {
  NearCache cache;
  EXPECT_FALSE(cache.finish_read(cache.begin_read("k"), nullptr, 0, later));
  EXPECT_EQ(cache.lookup("k", t0), nullptr);
}

}  // namespace
}  // namespace asyncredis::detail
