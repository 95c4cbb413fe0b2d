// Invalidation against a real redis-server: delete_pattern over 100,000 keys without KEYS and
// without stalling other clients, escaped prefixes, and namespaces with generations.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class Invalidation : public test::SharedServerTest {};

// Writes keys "<prefix><i>" for i in [0, count), 1000 per MSET, in one pipeline.
asio::awaitable<void> populate(RedisClient& client, const std::string& prefix, int count) {
  Pipeline pipeline;
  std::vector<std::pair<std::string, std::string>> pairs;
  for (int i = 0; i < count; ++i) {
    pairs.emplace_back(prefix + std::to_string(i), "1");
    if (pairs.size() == 1000 || i + 1 == count) {
      pipeline.add("MSET", pairs);
      pairs.clear();
    }
  }
  co_await client.execute(pipeline, use_awaitable);
}

// The "calls=" figure of `command` in INFO commandstats (0 when absent).
// Summed over every server whose INFO is in the text (a cluster's masters, one after another).
long calls_of(const std::string& commandstats, const std::string& command) {
  const std::string tag = "cmdstat_" + command + ":calls=";
  long calls = 0;
  for (auto at = commandstats.find(tag); at != std::string::npos;
       at = commandstats.find(tag, at + tag.size())) {
    calls += std::stol(commandstats.substr(at + tag.size()));
  }
  return calls;
}

TEST_F(Invalidation, DeletePatternClearsOneHundredThousandKeysWhileOthersAreServed) {
  run_async(
      [](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), server_->settings());
        co_await client.connect(use_awaitable);
        co_await populate(client, "user:", 100'000);
        co_await populate(client, "users:", 100);
        co_await client.set("other", "x", use_awaitable);
        server_->cli({"CONFIG", "RESETSTAT"});

        // Another client keeps asking the server something while the namespace is cleared.
        RedisClient other(io.get_executor(), server_->settings());
        co_await other.connect(use_awaitable);
        std::atomic<bool> clearing = true, pinger_done = false;
        int pings = 0;
        Clock::duration slowest{};
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
              while (clearing) {
                const auto sent = Clock::now();
                co_await other.ping(use_awaitable);
                slowest = std::max(slowest, Clock::now() - sent);
                ++pings;
              }
              pinger_done = true;
            },
            asio::detached);

        CacheService cache(client);
        const std::size_t removed = co_await cache.delete_pattern("user:*", use_awaitable);
        clearing = false;
        CO_ASSERT_TRUE(co_await test::eventually([&] { return pinger_done.load(); }));

        EXPECT_EQ(removed, 100'000u);
        EXPECT_EQ(co_await client.command<long long>("DBSIZE", use_awaitable), 101)
            << "users:* and other are untouched";
        EXPECT_GT(pings, 10) << "the other client was answered throughout";
        EXPECT_LT(slowest, 500ms) << "no single command stalled the server";
        const std::string stats = server_->cli({"INFO", "commandstats"});
        EXPECT_EQ(calls_of(stats, "keys"), 0) << stats;
        EXPECT_GE(calls_of(stats, "scan"), 100) << "the cursor was followed to the end";
        EXPECT_GE(calls_of(stats, "unlink"), 200) << "batches of 500";
        co_await other.disconnect(use_awaitable);
        co_await client.disconnect(use_awaitable);
      },
      std::chrono::seconds(120));
}

TEST_F(Invalidation, PatternCharactersInThePrefixAreEscaped) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    for (const char* key : {"c[a]che*:x", "c[a]che*:y", "cache:x", "cache*:x", "ca]che*:x"}) {
      co_await client.set(key, "1", use_awaitable);
    }
    CacheOptions options;
    options.key_prefix = "c[a]che*:";
    CacheService prefixed(client, options);
    EXPECT_EQ(co_await prefixed.delete_pattern("*", use_awaitable), 2u);
    EXPECT_EQ(co_await client.command<long long>("DBSIZE", use_awaitable), 3);
    EXPECT_EQ(co_await client.exists("cache:x", use_awaitable), 1)
        << "[a] and * in the prefix match only themselves";

    // The caller's pattern keeps its meaning; "user:*" never reaches "users:".
    CacheService plain(client);
    for (const char* key : {"user:1", "user:10", "users:1", "item:1", "item:10"}) {
      co_await client.set(key, "1", use_awaitable);
    }
    EXPECT_EQ(co_await plain.delete_pattern("user:*", use_awaitable), 2u);
    EXPECT_EQ(co_await client.exists("users:1", use_awaitable), 1);
    EXPECT_EQ(co_await plain.delete_pattern("item:?", use_awaitable), 1u);
    EXPECT_EQ(co_await client.exists("item:10", use_awaitable), 1);
    EXPECT_EQ(co_await plain.delete_pattern("nothing:*", use_awaitable), 0u);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Invalidation, SmallBatchesAndCountHints) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    co_await populate(client, "k:", 1234);
    server_->cli({"CONFIG", "RESETSTAT"});
    CacheOptions options;
    options.key_prefix = "k:";
    options.scan_count = 50;
    options.unlink_batch = 7;
    CacheService cache(client, options);
    EXPECT_EQ(co_await cache.delete_pattern("*", use_awaitable), 1234u);
    const std::string stats = server_->cli({"INFO", "commandstats"});
    EXPECT_GE(calls_of(stats, "unlink"), 1234 / 7);
    EXPECT_GE(calls_of(stats, "scan"), 1234 / 50 / 2);
    co_await client.disconnect(use_awaitable);
  });
}

// Redis's clock (TIME) in microseconds.
asio::awaitable<std::int64_t> server_us(RedisClient& client) {
  const auto t = co_await client.time(use_awaitable);
  co_return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TEST_F(Invalidation, NamespaceGenerationInvalidatesEveryKeyAtOnce) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    CacheService users = cache.in_namespace("users");
    for (int i = 0; i < 10; ++i) co_await users.set(std::to_string(i), i, use_awaitable);
    EXPECT_EQ(co_await users.get<int>("3", use_awaitable), 3);
    EXPECT_EQ(co_await cache.get<int>("3", use_awaitable), std::nullopt) << "namespaced apart";

    auto counter = co_await client.get("users:generation", use_awaitable);
    const std::int64_t first = std::stoll(counter.value_or("0"));
    const std::string key3 = "users:" + std::to_string(first) + ":3";
    EXPECT_EQ(co_await client.get(key3, use_awaitable), std::optional<std::string>("3"));

    const std::int64_t second = co_await cache.invalidate_namespace("users", use_awaitable);
    EXPECT_GT(second, first);
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(co_await users.get<int>(std::to_string(i), use_awaitable), std::nullopt);
    }
    EXPECT_EQ(co_await client.exists(key3, use_awaitable), 1) << "old entries expire by TTL";
    co_await users.set("3", 33, use_awaitable);
    const std::string new_key3 = "users:" + std::to_string(second) + ":3";
    EXPECT_EQ(co_await client.get(new_key3, use_awaitable), std::optional<std::string>("33"));

    // Every operation lives in the namespace.
    EXPECT_TRUE(co_await users.exists("3", use_awaitable));
    EXPECT_TRUE(co_await users.expire("3", 9s, use_awaitable));
    EXPECT_LE(co_await client.pttl(new_key3, use_awaitable), 9'000);
    std::vector<std::string> keys{"3", "4"};
    auto values = co_await users.mget<int>(keys, use_awaitable);
    EXPECT_EQ(values, (std::vector<std::optional<int>>{33, std::nullopt}));
    auto compute = []() -> asio::awaitable<int> { co_return 44; };
    EXPECT_EQ(co_await users.get_or_set("4", 10s, compute, use_awaitable), 44);
    EXPECT_EQ(co_await client.get("users:" + std::to_string(second) + ":4", use_awaitable),
              std::optional<std::string>("44"));
    EXPECT_EQ(co_await users.delete_pattern("*", use_awaitable), 2u) << "current generation only";
    EXPECT_EQ(co_await client.exists(key3, use_awaitable), 1);
    EXPECT_TRUE(co_await client.exists("users:generation", use_awaitable));
    co_await users.set("5", 5, use_awaitable);
    EXPECT_TRUE(co_await users.del("5", use_awaitable));
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Invalidation, GenerationsFollowRedissClockNotThisMachines) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.generation_refresh = 0ms;
    CacheService cache(client, options);
    CacheService ns = cache.in_namespace("ns");
    auto counter = [&]() -> asio::awaitable<std::int64_t> {
      co_return std::stoll((co_await client.get("ns:generation", use_awaitable)).value_or("0"));
    };

    // A new counter starts at Redis's TIME, in microseconds.
    std::int64_t before = co_await server_us(client);
    co_await ns.set("a", 1, use_awaitable);
    std::int64_t after = co_await server_us(client);
    const std::int64_t first = co_await counter();
    EXPECT_GE(first, before);
    EXPECT_LE(first, after);

    // An invalidation moves a counter that is behind Redis's clock up to it, then on by one...
    co_await client.set("ns:generation", "5", use_awaitable);
    before = co_await server_us(client);
    const std::int64_t bumped = co_await cache.invalidate_namespace("ns", use_awaitable);
    after = co_await server_us(client);
    EXPECT_GE(bumped, before);
    EXPECT_LE(bumped, after + 1);
    EXPECT_EQ(co_await counter(), bumped);
    // ...and one ahead of it (bumps within one microsecond) on by one only.
    const std::int64_t ahead = after + 1'000'000'000;
    co_await client.set("ns:generation", std::to_string(ahead), use_awaitable);
    EXPECT_EQ(co_await cache.invalidate_namespace("ns", use_awaitable), ahead + 1);

    // A counter that is not a number restarts from the clock too (on a read).
    co_await client.set("ns:generation", "garbage", use_awaitable);
    before = co_await server_us(client);
    EXPECT_EQ(co_await ns.get<int>("a", use_awaitable), std::nullopt);
    EXPECT_GE(co_await counter(), before);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Invalidation, OtherServicesSeeTheNewGenerationWithinTheRefreshTime) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheOptions always;
    always.key_namespace = "orders";
    always.generation_refresh = 0ms;
    CacheService reader_always(client, always);
    CacheOptions lagging = always;
    lagging.generation_refresh = 400ms;
    CacheService reader_lagging(client, lagging);
    CacheService writer = CacheService(client).in_namespace("orders");

    co_await writer.set("1", 1, use_awaitable);
    EXPECT_EQ(co_await reader_always.get<int>("1", use_awaitable), 1);
    EXPECT_EQ(co_await reader_lagging.get<int>("1", use_awaitable), 1);
    co_await writer.invalidate_namespace("orders", use_awaitable);
    EXPECT_EQ(co_await writer.get<int>("1", use_awaitable), std::nullopt) << "at once here";
    EXPECT_EQ(co_await reader_always.get<int>("1", use_awaitable), std::nullopt) << "refresh 0";
    EXPECT_EQ(co_await reader_lagging.get<int>("1", use_awaitable), 1)
        << "the documented cost: up to generation_refresh of staleness elsewhere";
    // Waiting out generation_refresh is the behaviour under test: poll until the lagging reader
    // sees the new generation, which must happen once its 400 ms have passed.
    const auto invalidated = Clock::now();
    bool seen = false;
    asio::steady_timer poll(io);
    while (!seen && Clock::now() - invalidated < test::kWaitLimit) {
      seen = !(co_await reader_lagging.get<int>("1", use_awaitable)).has_value();
      poll.expires_after(5ms);
      if (!seen) co_await poll.async_wait(use_awaitable);
    }
    EXPECT_TRUE(seen);
    EXPECT_LT(Clock::now() - invalidated, 400ms + 2s) << "within generation_refresh, give or take";
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Invalidation, ALostCounterNeverBringsOldEntriesBack) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.generation_refresh = 0ms;
    CacheService cache(client, options);
    CacheService ns = cache.in_namespace("ns");
    co_await ns.set("a", 1, use_awaitable);
    co_await cache.invalidate_namespace("ns", use_awaitable);
    co_await ns.set("a", 2, use_awaitable);
    const auto before =
        std::stoll((co_await client.get("ns:generation", use_awaitable)).value_or("0"));
    // FLUSH-like accident: the counter is gone, the entries are not.
    co_await client.del("ns:generation", use_awaitable);
    EXPECT_EQ(co_await ns.get<int>("a", use_awaitable), std::nullopt);
    const auto after =
        std::stoll((co_await client.get("ns:generation", use_awaitable)).value_or("0"));
    EXPECT_GT(after, before) << "restarted from the clock, past every old generation";

    // invalidate_namespace on a missing counter also starts from the clock.
    co_await client.del("ns:generation", use_awaitable);
    const std::int64_t bumped = co_await cache.invalidate_namespace("ns", use_awaitable);
    EXPECT_GT(bumped, after);

    errc code{};
    try {
      co_await cache.invalidate_namespace("", use_awaitable);
    } catch (const Error& e) {
      code = static_cast<errc>(e.code().value());
    }
    EXPECT_EQ(code, errc::invalid_argument);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
