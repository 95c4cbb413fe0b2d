// The near cache's randomized check: another process (tests/programs/redis_writer) writes
// increasing numbers to random keys and reports each acknowledged write; this process reads
// the keys through a near-cached CacheService. After a write was acknowledged and one
// sync_near_cache() (a round trip on the invalidation connection), no read may return a value
// older than that write. Violations are counted: there must be none.
#include <gtest/gtest.h>

#include <charconv>
#include <map>
#include <random>
#include <string>
#include <string_view>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "support/async_test.hpp"
#include "support/child_process.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

constexpr long kKeys = 40;
constexpr long kWrites = 8000;

// "<k> <value>" lines from `text`, starting at `offset` (moved past the complete ones).
std::vector<std::pair<long, long>> acknowledged(const std::string& text, std::size_t& offset) {
  std::vector<std::pair<long, long>> out;
  for (;;) {
    const std::size_t end = text.find('\n', offset);
    if (end == std::string::npos) return out;
    const std::string_view line(text.data() + offset, end - offset);
    offset = end + 1;
    const std::size_t space = line.find(' ');
    long k = -1, value = -1;
    if (space != std::string_view::npos) {
      std::from_chars(line.data(), line.data() + space, k);
      std::from_chars(line.data() + space + 1, line.data() + line.size(), value);
    }
    if (k < 0 || value < 0) {
      ADD_FAILURE() << "redis_writer said: " << line;
      continue;
    }
    out.emplace_back(k, value);
  }
}

TEST(NearCacheRandom, NoReadOlderThanAnAcknowledgedWrite) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.near_cache.enabled = true;
    CacheService cache(client, options);
    // Tracking on before the writer starts (a read is kept and answered near).
    co_await cache.set("warm", 1, use_awaitable);
    const auto warm_deadline = std::chrono::steady_clock::now() + test::kWaitLimit;
    while (cache.stats().near_hits == 0 && std::chrono::steady_clock::now() < warm_deadline) {
      co_await cache.get<long>("warm", use_awaitable);
    }
    CO_ASSERT_TRUE(cache.stats().near_hits > 0);
    co_await cache.sync_near_cache(use_awaitable);

    const unsigned seed = std::random_device{}();
    SCOPED_TRACE("seed " + std::to_string(seed));
    test::ChildProcess writer(
        {ASYNCREDIS_REDIS_WRITER, std::to_string(server.port()), "r:", std::to_string(kKeys),
         std::to_string(kWrites), std::to_string(seed)},
        {});
    std::mt19937 random(seed);
    std::uniform_int_distribution<long> any_key(0, kKeys - 1);
    std::map<long, long> floor;  // per key: the newest acknowledged value
    std::size_t offset = 0, checked = 0, violations = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (checked < static_cast<std::size_t>(kWrites) &&
           std::chrono::steady_clock::now() < deadline) {
      const auto acks = acknowledged(writer.output(), offset);
      if (!acks.empty()) co_await cache.sync_near_cache(use_awaitable);
      for (const auto& [k, value] : acks) {
        floor[k] = std::max(floor[k], value);
        ++checked;
      }
      // Every acknowledged key, and a random one (kept near for the next round).
      for (const auto& [k, value] : acks) {
        const std::string key = "r:" + std::to_string(k);
        const std::optional<long> got = co_await cache.get<long>(key, use_awaitable);
        if (!got || *got < floor[k]) {
          ++violations;
          ADD_FAILURE() << key << " read " << (got ? std::to_string(*got) : "nothing") << " after "
                        << floor[k] << " was acknowledged";
        }
      }
      const std::string key = "r:" + std::to_string(any_key(random));
      co_await cache.get<long>(key, use_awaitable);
      co_await cache.get<long>(key, use_awaitable);
    }
    EXPECT_EQ(checked, static_cast<std::size_t>(kWrites)) << writer.output().substr(0, 200);
    EXPECT_EQ(violations, 0u);
    EXPECT_EQ(writer.wait(), 0);
    const CacheStats stats = cache.stats();
    EXPECT_GT(stats.near_hits, 0u) << "the near cache never answered: nothing was checked";
    EXPECT_GT(stats.near_invalidations, 0u);
    std::printf(
        "near cache randomized check: %zu writes, %zu violations, near hits %llu, "
        "invalidations %llu\n",
        checked, violations, static_cast<unsigned long long>(stats.near_hits),
        static_cast<unsigned long long>(stats.near_invalidations));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
