// An invalidation (del, set, cached()'s invalidate, delete_pattern) that happens while a
// computation of the same key runs wins: the computation's result, computed from what was
// true before, goes to the callers that asked before, but is never stored over it, and callers
// after the invalidation compute afresh. Each computation here is held open by the test until
// the invalidation has been made.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::use_awaitable;
namespace asio = boost::asio;

class StaleStore : public test::CacheTest {};

// A computation returning `value` once the test opens it.
struct Held {
  std::atomic<bool> open{false};
  std::atomic<int> started{0};

  auto computation(std::string value) {
    return [this, value]() -> asio::awaitable<std::string> {
      ++started;
      if (!co_await eventually([this] { return open.load(); })) {
        throw std::runtime_error("the test never opened the computation");
      }
      co_return value;
    };
  }
};

// Starts get_or_set(key) with `held`'s computation; `result` is set when it completes.
void start(CacheService& cache, const std::string& key, Held& held, const std::string& value,
           std::optional<std::string>& result, GetOrSetOptions options = {}) {
  options.ttl = 1min;
  cache.get_or_set(key, options, held.computation(value),
                   [&result](std::exception_ptr e, std::string v) {
                     result = e ? "error: " + error_message_of(e) : v;
                   });
}

TEST_F(StaleStore, ADeleteDuringTheComputationIsNotOverwritten) {
  for (const bool single_flight : {true, false}) {
    SCOPED_TRACE(single_flight ? "single flight" : "no single flight");
    with_cache([single_flight](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
      Held held;
      std::optional<std::string> result;
      GetOrSetOptions options;
      options.single_flight = single_flight;
      const std::string key = single_flight ? "shared" : "own";
      start(cache, key, held, "before the delete", result, options);
      CO_ASSERT_TRUE(co_await eventually([&] { return held.started == 1; }));
      co_await cache.del(key, use_awaitable);
      held.open = true;
      CO_ASSERT_TRUE(co_await eventually([&] { return result.has_value(); }));
      EXPECT_EQ(*result, "before the delete") << "the caller gets what it asked for";
      EXPECT_EQ(co_await client.exists(key, use_awaitable), 0) << "the delete stands";
      EXPECT_EQ(cache.stats().sets, 0u);
    });
  }
}

TEST_F(StaleStore, ASetDuringTheComputationWins) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Held held;
    std::optional<std::string> result;
    start(cache, "k", held, "computed from old data", result);
    CO_ASSERT_TRUE(co_await eventually([&] { return held.started == 1; }));
    const std::string fresh = "set meanwhile";
    co_await cache.set("k", fresh, use_awaitable);
    held.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return result.has_value(); }));
    EXPECT_EQ(co_await client.get("k", use_awaitable),
              std::optional<std::string>("\"set meanwhile\""));
  });
}

TEST_F(StaleStore, CallersAfterTheInvalidationComputeAfresh) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    Held first;
    // cached(): the first call's computation is held; the second one's is not.
    auto load = cached(cache, "user", 1min, [&](int id) -> asio::awaitable<std::string> {
      if (++calls == 1) co_return co_await first.computation("old")();
      co_return "new " + std::to_string(id);
    });
    std::optional<std::string> early;
    load(7, [&early](std::exception_ptr e, std::string v) { early = e ? "error" : v; });
    CO_ASSERT_TRUE(co_await eventually([&] { return first.started == 1; }));
    EXPECT_FALSE(co_await load.invalidate(7, use_awaitable)) << "nothing stored yet";

    // Not a waiter for the computation the invalidation made stale: a computation of its own.
    EXPECT_EQ(co_await load(7), "new 7");
    EXPECT_EQ(cache.stats().waits, 0u);
    first.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return early.has_value(); }));
    EXPECT_EQ(*early, "old");
    EXPECT_EQ(co_await client.get(load.key_for(7), use_awaitable),
              std::optional<std::string>("\"new 7\""))
        << "the stale result did not replace the fresh one";
    EXPECT_EQ(co_await load(7), "new 7");
  });
}

TEST_F(StaleStore, ADeletePatternDuringTheComputationIsNotOverwritten) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Held held;
    std::optional<std::string> result;
    start(cache, "item:1", held, "stale", result);
    CO_ASSERT_TRUE(co_await eventually([&] { return held.started == 1; }));
    co_await cache.delete_pattern("item:*", use_awaitable);
    held.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return result.has_value(); }));
    EXPECT_EQ(co_await client.exists("item:1", use_awaitable), 0);
  });
}

TEST_F(StaleStore, ComputationsOfOtherKeysStillStore) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Held held;
    std::optional<std::string> result;
    start(cache, "kept", held, "value", result);
    CO_ASSERT_TRUE(co_await eventually([&] { return held.started == 1; }));
    co_await cache.del("other", use_awaitable);
    co_await cache.set("another", 1, use_awaitable);
    held.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return result.has_value(); }));
    EXPECT_EQ(co_await client.get("kept", use_awaitable), std::optional<std::string>("\"value\""));
  });
}

}  // namespace
}  // namespace asyncredis
