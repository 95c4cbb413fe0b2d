// The near cache (CacheOptions::near_cache) against real redis-servers: a hit is served from
// the process, and every way Redis changes a key (another client's SET, DEL, EXPIRE, FLUSHDB,
// eviction under maxmemory, a script's write) takes it out; an invalidation that overtakes
// its read's reply keeps that reply out; a lost invalidation or data connection empties it.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/cache/cached.hpp"
#include "support/async_test.hpp"
#include "support/fault_proxy.hpp"
#include "support/near_reads.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::held_near;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

CacheOptions near_options() {
  CacheOptions options;
  options.near_cache.enabled = true;
  return options;
}

// Reads `key` until it is `expected` (the invalidation may take a moment to arrive); false if
// it never is.
asio::awaitable<bool> reads_as(const CacheService& cache, const std::string& key,
                               std::optional<nlohmann::json> expected) {
  const auto deadline = std::chrono::steady_clock::now() + test::kWaitLimit;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    auto got = co_await cache.get<nlohmann::json>(key, use_awaitable);
    if (got == expected) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << key << " reads " << (got ? got->dump() : "(miss)");
      co_return false;
    }
    timer.expires_after(2ms);
    co_await timer.async_wait(use_awaitable);
  }
}

class NearCache : public test::CacheTest {
 protected:
  // The key is read into the near cache, `change` runs on another connection, and the next
  // reads must see `after` (an invalidation arrived: counted).
  void expect_invalidated_by(const std::vector<std::string>& change,
                             std::optional<nlohmann::json> after) {
    with_cache(
        [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
          co_await cache.set("k", 1, use_awaitable);
          EXPECT_TRUE(co_await held_near(cache, "k"));
          const auto invalidations = cache.stats().near_invalidations;
          server_->cli(change);
          EXPECT_TRUE(co_await eventually(
              [&] { return cache.stats().near_invalidations > invalidations; }));
          EXPECT_TRUE(co_await reads_as(cache, "k", after));
        },
        near_options());
  }
};

TEST_F(NearCache, AHitNeedsNoServer) {
  test::FaultProxy proxy(server_->port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), proxy.settings(server_->settings()));
    co_await client.connect(use_awaitable);
    CacheService cache(client, near_options());
    const nlohmann::json ada = {{"name", "ada"}};
    co_await cache.set("user:1", ada, use_awaitable);
    EXPECT_TRUE(co_await held_near(cache, "user:1"));
    // Nothing reaches Redis now; the value is still there, decoded.
    proxy.blackhole(true);
    const auto hits = cache.stats().near_hits;
    EXPECT_EQ(co_await cache.get<nlohmann::json>("user:1", use_awaitable), ada);
    EXPECT_EQ(cache.stats().near_hits, hits + 1);
    // Never inside the call (Asio's rule; a caller starting its next call from the handler
    // would recurse without bound).
    bool done = false;
    cache.get<nlohmann::json>(
        "user:1", [&](std::exception_ptr, std::optional<nlohmann::json>) { done = true; });
    EXPECT_FALSE(done);
    EXPECT_TRUE(co_await eventually([&] { return done; }));
    EXPECT_EQ(cache.stats().near_hits, hits + 2);
    EXPECT_GE(cache.stats().near_entries, 1u);
    EXPECT_GT(cache.stats().near_bytes, 0u);
    proxy.blackhole(false);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(NearCache, AnotherClientsSetInvalidates) {
  expect_invalidated_by({"SET", "k", "2"}, nlohmann::json(2));
}

TEST_F(NearCache, DelInvalidates) {
  expect_invalidated_by({"DEL", "k"}, std::nullopt);
}

TEST_F(NearCache, ExpireInvalidates) {
  // The new lifetime is what matters: the old copy goes, the next read keeps the value again.
  expect_invalidated_by({"PEXPIRE", "k", "100000"}, nlohmann::json(1));
}

TEST_F(NearCache, ExpiryOfTheKeyInvalidates) {
  expect_invalidated_by({"PEXPIRE", "k", "1"}, std::nullopt);
}

TEST_F(NearCache, ScriptWriteInvalidates) {
  expect_invalidated_by({"EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "3"},
                        nlohmann::json(3));
}

TEST_F(NearCache, FlushdbEmptiesIt) {
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("a", 1, use_awaitable);
        co_await cache.set("b", 2, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "a"));
        EXPECT_TRUE(co_await held_near(cache, "b"));
        const auto flushes = cache.stats().near_flushes;
        server_->cli({"FLUSHDB"});
        EXPECT_TRUE(co_await eventually([&] { return cache.stats().near_flushes > flushes; }));
        EXPECT_EQ(cache.stats().near_entries, 0u);
        EXPECT_TRUE(co_await reads_as(cache, "a", std::nullopt));
        EXPECT_TRUE(co_await reads_as(cache, "b", std::nullopt));
      },
      near_options());
}

TEST_F(NearCache, WritesThroughTheServiceEvictAtOnce) {
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("k", 1, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "k"));
        // No waiting: the service's own write drops the copy before it is sent.
        co_await cache.set("k", 2, use_awaitable);
        EXPECT_EQ(co_await cache.get<int>("k", use_awaitable), 2);
        EXPECT_TRUE(co_await held_near(cache, "k"));
        EXPECT_TRUE(co_await cache.del("k", use_awaitable));
        EXPECT_EQ(co_await cache.get<int>("k", use_awaitable), std::nullopt);
        co_await cache.set("p:1", 1, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "p:1"));
        EXPECT_EQ(co_await cache.delete_pattern("p:*", use_awaitable), 1u);
        EXPECT_EQ(co_await cache.get<int>("p:1", use_awaitable), std::nullopt);
      },
      near_options());
}

TEST_F(NearCache, KeepsTypesApartAndNotFoundMarkers) {
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("n", 7, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "n"));  // held as nlohmann::json
        const auto hits = cache.stats().near_hits;
        EXPECT_EQ(co_await cache.get<int>("n", use_awaitable), 7);  // another type: from Redis
        EXPECT_EQ(cache.stats().near_hits, hits);
        EXPECT_EQ(co_await cache.get<int>("n", use_awaitable), 7);  // now held as int
        EXPECT_EQ(cache.stats().near_hits, hits + 1);

        co_await cache.set("gone", std::nullopt, use_awaitable);
        using Maybe = std::optional<int>;
        const std::optional<Maybe> not_found(std::in_place, std::nullopt);  // cached, not found
        EXPECT_EQ(co_await cache.get<Maybe>("gone", use_awaitable), not_found);
        const auto negative = cache.stats().negative_hits;
        const auto near_hits = cache.stats().near_hits;
        EXPECT_EQ(co_await cache.get<Maybe>("gone", use_awaitable), not_found);
        EXPECT_EQ(cache.stats().negative_hits, negative + 1);
        EXPECT_EQ(cache.stats().near_hits, near_hits + 1);
      },
      near_options());
}

TEST_F(NearCache, WorksInNamespacesAndThroughCached) {
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        CacheService users = cache.in_namespace("users");
        co_await users.set("1", 1, use_awaitable);
        EXPECT_TRUE(co_await held_near(users, "1"));
        co_await users.invalidate_namespace("users", use_awaitable);
        EXPECT_EQ(co_await users.get<int>("1", use_awaitable), std::nullopt);

        int calls = 0;
        auto square = cached(cache, "square", 60s, [&](int x) -> asio::awaitable<int> {
          ++calls;
          co_return x* x;
        });
        EXPECT_EQ(co_await square(3, use_awaitable), 9);
        const auto deadline = std::chrono::steady_clock::now() + test::kWaitLimit;
        std::uint64_t hits = cache.stats().near_hits;
        while (cache.stats().near_hits == hits && std::chrono::steady_clock::now() < deadline) {
          hits = cache.stats().near_hits;
          EXPECT_EQ(co_await square(3, use_awaitable), 9);
        }
        EXPECT_GT(cache.stats().near_hits, hits);
        EXPECT_EQ(calls, 1);
      },
      near_options());
}

TEST_F(NearCache, EntriesNeverOutliveTheKeysTtl) {
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("short", 1, 300ms, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "short"));
        // Redis's active expiry may be late; the copy goes by the TTL read with it.
        EXPECT_TRUE(co_await reads_as(cache, "short", std::nullopt));
      },
      near_options());
}

TEST_F(NearCache, BoundedByEntries) {
  CacheOptions options = near_options();
  options.near_cache.max_entries = 16;  // one per shard
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        for (int i = 0; i < 64; ++i) {
          const std::string key = "k" + std::to_string(i);
          co_await cache.set(key, i, use_awaitable);
          co_await cache.get<int>(key, use_awaitable);
          co_await cache.get<int>(key, use_awaitable);
        }
        EXPECT_LE(cache.stats().near_entries, 16u);
        EXPECT_GT(cache.stats().near_evictions, 0u);
      },
      options);
}

TEST_F(NearCache, BadOptionsAreRefused) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    CacheOptions options = near_options();
    options.near_cache.max_ttl = 0ms;
    try {
      CacheService cache(client, options);
      ADD_FAILURE() << "max_ttl 0 accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("near_cache.max_ttl"), std::string::npos) << e.what();
    }
    try {
      CacheService cache(static_cast<const Commands&>(client), io.get_executor(), near_options());
      ADD_FAILURE() << "a near cache over a command view accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("near_cache"), std::string::npos) << e.what();
    }
    CacheService first(client, near_options());
    try {
      CacheService second(client, near_options());
      ADD_FAILURE() << "two near caches on one client accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
    }
    co_return;
  });
}

TEST_F(NearCache, BroadcastModeWithThePrefix) {
  CacheOptions options = near_options();
  options.key_prefix = "app:";
  options.near_cache.mode = NearCacheOptions::Mode::broadcast;
  with_cache(
      [&](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("k", 1, use_awaitable);
        EXPECT_TRUE(co_await held_near(cache, "k"));
        server_->cli({"SET", "app:k", "5"});
        EXPECT_TRUE(co_await reads_as(cache, "k", nlohmann::json(5)));
      },
      options);
}

// Eviction under maxmemory: its own server, small, allkeys-lru.
TEST(NearCacheEviction, EvictionInvalidates) {
  test::RedisServerOptions server_options;
  server_options.extra_args = {"--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru"};
  test::RedisServer server(server_options);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client, near_options());
    co_await cache.set("victim", 1, use_awaitable);
    EXPECT_TRUE(co_await held_near(cache, "victim"));
    const auto invalidations = cache.stats().near_invalidations;
    // Keys nobody reads fill memory until the victim is evicted.
    const std::string filler(10'000, 'x');
    for (int i = 0; i < 2000 && cache.stats().near_invalidations == invalidations; ++i) {
      const std::string key = "fill:" + std::to_string(i);
      co_await client.set(key, filler, use_awaitable);
    }
    EXPECT_GT(cache.stats().near_invalidations, invalidations);
    const auto near_hits = cache.stats().near_hits;
    auto got = co_await cache.get<int>("victim", use_awaitable);
    EXPECT_EQ(cache.stats().near_hits, near_hits) << "an evicted key came from the near cache";
    if (got) EXPECT_EQ(*got, 1);  // evicted was some other key named in the invalidations
    co_await client.disconnect(use_awaitable);
  });
}

// The reply of a read is held back on its data connection while another client's SET is
// applied; the invalidation, on the fast invalidation connection, arrives first: the old
// reply must not be kept.
TEST(NearCacheRace, AnInvalidationThatOvertakesTheReplyKeepsItOut) {
  test::RedisServer server;
  test::FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxy.settings(server.settings());
    settings.max_connections = 1;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CacheService cache(client, near_options());
    co_await cache.set("k", 1, use_awaitable);
    EXPECT_TRUE(co_await held_near(cache, "k"));  // tracking is on
    // Dropped locally; the next read goes out. The invalidation of this very write is let
    // in first, so that only the other client's SET below can spoil that read.
    const auto own = cache.stats().near_invalidations;
    co_await cache.set("k", 2, use_awaitable);
    EXPECT_TRUE(co_await eventually([&] { return cache.stats().near_invalidations > own + 1; }));

    const std::vector<std::size_t> ids = proxy.connection_ids();
    CO_ASSERT_EQ(ids.size(), 2u);  // the data connection and the invalidation connection
    // Accept order: the pool's connection first.
    EXPECT_TRUE(
        proxy.set_connection_latency(ids[0], 400ms, test::FaultProxy::Direction::to_client));
    const auto to_client = proxy.bytes_forwarded(test::FaultProxy::Direction::to_client);
    std::optional<int> first;
    bool done = false;
    cache.get<int>("k", [&](std::exception_ptr error, std::optional<int> value) {
      EXPECT_FALSE(error);
      first = value;
      done = true;
    });
    // Redis has answered (the reply waits in the proxy): the key is tracked for this client.
    EXPECT_TRUE(co_await eventually(
        [&] { return proxy.bytes_held(test::FaultProxy::Direction::to_client) > 0; }));
    const auto invalidations = cache.stats().near_invalidations;
    server.cli({"SET", "k", "3"});
    EXPECT_TRUE(
        co_await eventually([&] { return cache.stats().near_invalidations > invalidations; }));
    EXPECT_FALSE(done) << "the reply was not held long enough to be overtaken";
    EXPECT_TRUE(co_await eventually([&] { return done; }));
    EXPECT_EQ(first, 2);  // what Redis answered before the SET
    EXPECT_GE(proxy.bytes_forwarded(test::FaultProxy::Direction::to_client), to_client);
    proxy.set_connection_latency(ids[0], 0ms);
    EXPECT_EQ(co_await cache.get<int>("k", use_awaitable), 3) << "the overtaken reply was kept";
    co_await client.disconnect(use_awaitable);
  });
}

// Whenever Redis may have stopped telling, the near cache is emptied and keeps nothing until
// tracking is back: the invalidation connection killed, a data connection reset.
TEST(NearCacheLoss, InvalidationConnectionKilledFlushesUntilBack) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client, near_options());
    co_await cache.set("k", 1, use_awaitable);
    EXPECT_TRUE(co_await held_near(cache, "k"));
    const auto flushes = cache.stats().near_flushes;
    server.cli({"CLIENT", "KILL", "TYPE", "pubsub"});
    EXPECT_TRUE(co_await eventually([&] { return cache.stats().near_flushes > flushes; }));
    // Back on by itself, and invalidations flow on the new connection.
    EXPECT_TRUE(co_await held_near(cache, "k"));
    server.cli({"SET", "k", "2"});
    EXPECT_TRUE(co_await reads_as(cache, "k", nlohmann::json(2)));
    co_await client.disconnect(use_awaitable);
  });
}

TEST(NearCacheLoss, DataConnectionResetFlushes) {
  test::RedisServer server;
  test::FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), proxy.settings(server.settings()));
    co_await client.connect(use_awaitable);
    CacheService cache(client, near_options());
    co_await cache.set("k", 1, use_awaitable);
    EXPECT_TRUE(co_await held_near(cache, "k"));
    const auto flushes = cache.stats().near_flushes;
    proxy.reset_all();
    EXPECT_TRUE(co_await eventually([&] { return cache.stats().near_flushes > flushes; }));
    EXPECT_EQ(cache.stats().near_entries, 0u);
    EXPECT_TRUE(co_await held_near(cache, "k"));
    server.cli({"SET", "k", "2"});
    EXPECT_TRUE(co_await reads_as(cache, "k", nlohmann::json(2)));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
