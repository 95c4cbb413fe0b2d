// The near cache under ThreadSanitizer: four threads read keys through one near-cached
// CacheService (the io_context runs on two of them) while a writer on another connection
// changes them; after each acknowledged write and a sync_near_cache(), no reader sees the
// value it replaced.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;
using asio::use_future;

TEST(NearCacheConcurrency, FourReadersOneWriter) {
  test::RedisServer server;
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> loop;
  for (int i = 0; i < 2; ++i) loop.emplace_back([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), server.settings());
    client.connect(use_future).get();
    RedisClient writer(io.get_executor(), server.settings());
    writer.connect(use_future).get();
    CacheOptions options;
    options.near_cache.enabled = true;
    CacheService cache(client, options);
    constexpr int kKeys = 8;
    for (int k = 0; k < kKeys; ++k) cache.set("c:" + std::to_string(k), 0, use_future).get();
    ASSERT_TRUE(test::wait_until([&] {
      cache.get<int>("c:0", use_future).get();
      return cache.stats().near_hits > 0;
    }));

    // floor[k]: the newest value of key k acknowledged and synced; readers must never see less.
    std::array<std::atomic<int>, kKeys> floor{};
    std::atomic<bool> stop{false};
    std::atomic<long> violations{0}, reads{0};
    std::vector<std::thread> readers;
    for (int r = 0; r < 4; ++r) {
      readers.emplace_back([&, r] {
        int k = r;
        while (!stop.load()) {
          k = (k + 1) % kKeys;
          const int least = floor[k].load();
          const std::optional<int> got = cache.get<int>("c:" + std::to_string(k), use_future).get();
          ++reads;
          if (!got || *got < least) ++violations;
        }
      });
    }
    for (int value = 1; value <= 300; ++value) {
      const int k = value % kKeys;
      const std::string key = "c:" + std::to_string(k);
      writer.set(key, std::to_string(value), use_future).get();
      cache.sync_near_cache(use_future).get();
      floor[k].store(value);
    }
    stop = true;
    for (auto& t : readers) t.join();
    EXPECT_EQ(violations.load(), 0);
    EXPECT_GT(reads.load(), 300);
    EXPECT_GT(cache.stats().near_hits, 0u);
    client.disconnect(use_future).get();
    writer.disconnect(use_future).get();
  }
  work.reset();
  for (auto& t : loop) t.join();
}

}  // namespace
}  // namespace asyncredis
