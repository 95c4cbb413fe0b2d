// cached() against a real redis-server: memoizing by arguments, invalidation that hits what
// was stored, "not found", options (cache_if, key_with, single flight, early refresh), tokens.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cached.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

// ASSERT_* returns, which a coroutine cannot: this records the failure and co_returns.
#define CACHE_REQUIRE(condition)                        \
  if (!(condition)) {                                   \
    ADD_FAILURE() << "requirement failed: " #condition; \
    co_return;                                          \
  }

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::sleep_for;
using test::use_awaitable;
namespace asio = boost::asio;

struct User {
  std::int64_t id = 0;
  std::string name;
  friend void to_json(nlohmann::json& j, const User& u) { j = {{"id", u.id}, {"name", u.name}}; }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("id").get_to(u.id);
    j.at("name").get_to(u.name);
  }
  friend bool operator==(const User&, const User&) = default;
};

// A user gateway: counts its calls, knows ids below 100. While `held`, its answers wait until
// the test lets them go (a slow database, for exactly as long as a test needs).
struct Gateway {
  std::atomic<int> calls = 0;
  std::atomic<bool> held = false;
  asio::awaitable<std::optional<User>> find(std::int64_t id) {
    ++calls;
    if (!co_await test::eventually([this] { return !held.load(); })) {
      throw std::runtime_error("the test never let the gateway answer");
    }
    if (id >= 100) co_return std::nullopt;
    co_return User{id, "user" + std::to_string(id)};
  }
};

class Memoizer : public test::CacheTest {};

TEST_F(Memoizer, MemoizesByArgumentsAndInvalidatesExactlyThatKey) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Gateway gateway;
    auto get_user =
        cached(cache, "user", 10min, [&gateway](std::int64_t id) { return gateway.find(id); });
    const std::optional<User> one{User{1, "user1"}};
    EXPECT_EQ(co_await get_user(1), one);
    EXPECT_EQ(co_await get_user(1), one);
    EXPECT_EQ(gateway.calls.load(), 1);
    EXPECT_EQ((co_await get_user(2))->name, "user2");
    EXPECT_EQ(gateway.calls.load(), 2);

    const std::string key = get_user.key_for(1);
    EXPECT_EQ(key, KeyBuilder("user")(1));
    EXPECT_EQ(key, KeyBuilder("user")(std::int64_t{1})) << "int and int64 agree";
    auto raw = co_await client.get(key, use_awaitable);
    CACHE_REQUIRE(raw.has_value());
    EXPECT_EQ(nlohmann::json::parse(*raw), nlohmann::json({{"id", 1}, {"name", "user1"}}));
    const auto ttl = co_await client.pttl(key, use_awaitable);
    EXPECT_GT(ttl, 590'000);
    EXPECT_LE(ttl, 600'000);

    // The seed's bug 4 cannot happen: invalidate(args) deletes the key the call used.
    EXPECT_TRUE(co_await get_user.invalidate(1));
    EXPECT_EQ(co_await client.exists(key, use_awaitable), 0);
    EXPECT_FALSE(co_await get_user.invalidate(1));
    EXPECT_EQ(co_await get_user(1), one);
    EXPECT_EQ(gateway.calls.load(), 3);
    EXPECT_TRUE(co_await cache.del(get_user.key_for(1), use_awaitable))
        << "key_for is the key to hand to the service";
  });
}

TEST_F(Memoizer, NotFoundIsCachedAndCacheIfCanSkipIt) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Gateway gateway;
    auto find = [&gateway](std::int64_t id) { return gateway.find(id); };
    auto get_user = cached(cache, "user", 1min, find);
    EXPECT_EQ(co_await get_user(404), std::nullopt);
    EXPECT_EQ(co_await get_user(404), std::nullopt);
    EXPECT_EQ(gateway.calls.load(), 1) << "a cached \"not found\" is a hit";
    EXPECT_EQ(co_await client.get(get_user.key_for(404), use_awaitable),
              std::optional<std::string>(std::string("\0N", 2)));
    EXPECT_EQ(cache.stats().negative_hits, 1u);

    auto only_found = cached(cache, "found", 1min, find).cache_if([](const std::optional<User>& u) {
      return u.has_value();
    });
    EXPECT_EQ(co_await only_found(405), std::nullopt);
    EXPECT_EQ(co_await only_found(405), std::nullopt);
    EXPECT_EQ(gateway.calls.load(), 3) << "not cached: computed each time";
    EXPECT_EQ(co_await client.exists(only_found.key_for(405), use_awaitable), 0);
    EXPECT_TRUE((co_await only_found(5)).has_value());
    EXPECT_TRUE((co_await only_found(5)).has_value());
    EXPECT_EQ(gateway.calls.load(), 4);
  });
}

TEST_F(Memoizer, KeyWithGivesReadableSharedKeys) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Gateway gateway;
    auto get_user = cached(cache, "user", 1min, [&gateway](std::int64_t id) {
                      return gateway.find(id);
                    }).key_with([](std::int64_t id) { return std::to_string(id); });
    EXPECT_EQ(get_user.key_for(42), "user:42");
    co_await get_user(42);
    EXPECT_TRUE(co_await client.exists("user:42", use_awaitable));
    // Another service (the Python one, say) invalidates "user:{id}" and it hits.
    co_await client.del("user:42", use_awaitable);
    co_await get_user(42);
    EXPECT_EQ(gateway.calls.load(), 2);
    EXPECT_TRUE(co_await get_user.invalidate(42));
    EXPECT_EQ(co_await client.exists("user:42", use_awaitable), 0);
  });
}

TEST_F(Memoizer, TextArgumentsOfAnyTypeShareAKeyAndOutliveTheCaller) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto greet = cached(cache, "greet", 1min,
                        [&calls](std::string_view name, int times) -> asio::awaitable<std::string> {
                          ++calls;  // after the GET: the caller's string is gone by now
                          std::string out;
                          for (int i = 0; i < times; ++i) out += name;
                          co_return out;
                        });
    std::atomic<bool> done = false;
    {
      std::string name = "ab";
      greet(name, 2, [&](std::exception_ptr e, std::string value) {
        EXPECT_FALSE(e);
        EXPECT_EQ(value, "abab");
        done = true;
      });
      name.assign("zz");  // the call keeps its own copy
    }
    CO_ASSERT_TRUE(co_await test::eventually([&] { return done.load(); }));
    EXPECT_EQ(co_await greet("ab", 2), "abab");
    const std::string ab = "ab";
    EXPECT_EQ(co_await greet(ab, 2), "abab");
    EXPECT_EQ(co_await greet(std::string_view(ab), 2), "abab");
    EXPECT_EQ(calls.load(), 1);
    EXPECT_EQ(greet.key_for("ab", 2), greet.key_for(std::string("ab"), 2));
    EXPECT_TRUE(co_await greet.invalidate("ab", 2));
  });
}

TEST_F(Memoizer, ThrowingFunctionIsNotCachedAndBadValuesAreErrors) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto flaky = cached(cache, "flaky", 1min, [&calls](int x) -> asio::awaitable<int> {
      if (++calls == 1) throw std::runtime_error("first call fails");
      co_return x * 10;
    });
    bool threw = false;
    try {
      co_await flaky(4);
    } catch (const std::runtime_error&) {
      threw = true;
    }
    EXPECT_TRUE(threw);
    EXPECT_EQ(co_await client.exists(flaky.key_for(4), use_awaitable), 0);
    EXPECT_EQ(co_await flaky(4), 40);
    EXPECT_EQ(calls.load(), 2);

    co_await client.set(flaky.key_for(5), "\"not an int\"", use_awaitable);
    errc code{};
    std::string message;
    try {
      co_await flaky(5);
    } catch (const Error& e) {
      code = static_cast<errc>(e.code().value());
      message = e.message();
    }
    EXPECT_EQ(code, errc::decode_error);
    EXPECT_NE(message.find(flaky.key_for(5)), std::string::npos) << message;
  });
}

TEST_F(Memoizer, InvalidateAllRemovesOnlyItsPrefix) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    auto twice = [](int x) -> asio::awaitable<int> { co_return 2 * x; };
    auto user = cached(cache, "user", 1min, twice);
    auto users = cached(cache, "users", 1min, twice);
    // A prefix that extends "user" with ':' is another memoizer, not part of "user".
    auto posts = cached(cache, "user:posts", 1min, twice);
    for (int i = 0; i < 5; ++i) {
      co_await user(i);
      co_await users(i);
      co_await posts(i);
    }
    EXPECT_EQ(co_await user.invalidate_all(), 5u);
    EXPECT_EQ(co_await client.command<long long>("DBSIZE", use_awaitable), 10);
    EXPECT_EQ(co_await client.exists(users.key_for(3), use_awaitable), 1);
    EXPECT_EQ(co_await client.exists(posts.key_for(3), use_awaitable), 1);
    EXPECT_EQ(co_await posts.invalidate_all(), 5u);
    EXPECT_EQ(co_await users.invalidate_all(), 5u);
  });
}

TEST_F(Memoizer, InvalidateAllOfAKeyFunctionsMemoizerRemovesOnlyItsPrefix) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    auto twice = [](int x) -> asio::awaitable<int> { co_return 2 * x; };
    auto id_key = [](int x) { return std::to_string(x); };
    auto user = cached(cache, "user", 1min, twice).key_with(id_key);
    auto posts = cached(cache, "user:posts", 1min, twice).key_with(id_key);
    auto digest_posts = cached(cache, "user:posts", 1min, twice);
    for (int i = 0; i < 3; ++i) {
      co_await user(i);
      co_await posts(i);
      co_await digest_posts(i);
    }
    EXPECT_EQ(user.key_for(2), "user:2");
    EXPECT_EQ(co_await user.invalidate_all(), 3u);
    EXPECT_EQ(co_await client.command<long long>("DBSIZE", use_awaitable), 6);
    EXPECT_EQ(co_await client.exists("user:posts:2", use_awaitable), 1);

    // A key function's result with ':' could be another memoizer's key ("user" + "posts:1"
    // is "user:posts" + "1"): refused, as is an empty one.
    auto colon = cached(cache, "user", 1min, twice).key_with([](int x) {
      return "posts:" + std::to_string(x);
    });
    auto empty = cached(cache, "user", 1min, twice).key_with([](int) { return std::string(); });
    for (const auto& attempt : {std::function<asio::awaitable<int>()>([&] { return colon(1); }),
                                std::function<asio::awaitable<int>()>([&] { return empty(1); })}) {
      errc code{};
      std::string message;
      try {
        co_await attempt();
      } catch (const Error& e) {
        code = static_cast<errc>(e.code().value());
        message = e.message();
      }
      EXPECT_EQ(code, errc::invalid_argument);
      EXPECT_NE(message.find("cached \"user\""), std::string::npos) << message;
    }
    EXPECT_EQ(co_await client.exists("user:posts:1", use_awaitable), 1) << "untouched";
  });
}

TEST_F(Memoizer, ConcurrentCallsShareOneComputationUnlessTurnedOff) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    Gateway gateway;
    auto find = [&gateway](std::int64_t id) { return gateway.find(id); };
    auto shared = cached(cache, "shared", 1min, find);
    auto separate = cached(cache, "separate", 1min, find).single_flight(false);
    std::atomic<int> done = 0;
    gateway.held = true;  // until every caller waits, or computes
    for (int i = 0; i < 100; ++i) {
      shared(7, [&](std::exception_ptr e, std::optional<User> u) {
        EXPECT_FALSE(e);
        EXPECT_TRUE(u.has_value());
        ++done;
      });
    }
    EXPECT_TRUE(co_await test::eventually([&] { return cache.stats().waits == 99; }));
    gateway.held = false;
    CO_ASSERT_TRUE(co_await test::eventually([&] { return done == 100; }));
    EXPECT_EQ(gateway.calls.load(), 1);
    gateway.held = true;
    for (int i = 0; i < 10; ++i) {
      separate(8, [&](std::exception_ptr e, std::optional<User>) {
        EXPECT_FALSE(e);
        ++done;
      });
    }
    // Ten computations of one key at once: none waited for another.
    EXPECT_TRUE(co_await test::eventually([&] { return gateway.calls == 11; }));
    gateway.held = false;
    CO_ASSERT_TRUE(co_await test::eventually([&] { return done == 110; }));
    EXPECT_EQ(cache.stats().waits, 99u);
  });
}

TEST_F(Memoizer, UseFutureAndCallbacksFromOtherThreads) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), server_->settings());
    client.connect(asio::use_future).get();
    CacheService cache(client);
    auto square =
        cached(cache, "square", 1min, [](int x) -> asio::awaitable<int> { co_return x* x; });
    EXPECT_EQ(square(9, asio::use_future).get(), 81);
    EXPECT_EQ(square(9, asio::use_future).get(), 81);
    EXPECT_TRUE(square.invalidate(9, asio::use_future).get());
    std::promise<bool> removed;
    square.invalidate(9, [&](std::exception_ptr e, bool r) {
      EXPECT_FALSE(e);
      removed.set_value(r);
    });
    EXPECT_FALSE(removed.get_future().get());
    EXPECT_EQ(square.invalidate_all(asio::use_future).get(), 0u);
    EXPECT_EQ(cache.stats().hits, 1u);
    client.disconnect(asio::use_future).get();
  }
  work.reset();
  runner.join();
}

TEST_F(Memoizer, BadConstructionIsRefused) {
  asio::io_context io;
  RedisClient client(io.get_executor(), server_->settings());
  CacheService cache(client);
  auto fn = [](int x) -> asio::awaitable<int> { co_return x; };
  auto code = [](auto&& make) {
    try {
      make();
    } catch (const Error& e) {
      return static_cast<errc>(e.code().value());
    }
    return errc{};
  };
  EXPECT_EQ(code([&] { cached(cache, "", 1min, fn); }), errc::invalid_argument);
  EXPECT_EQ(code([&] { cached(cache, "p", -1s, fn); }), errc::invalid_argument);
  EXPECT_EQ(code([&] { cached(cache, "p", 1min, fn).early_refresh(-1); }), errc::invalid_argument);
  auto ok = cached(cache, "p", 0ms, fn).early_refresh(1.0);
  EXPECT_EQ(ok.prefix(), "p");
  EXPECT_EQ(ok.ttl(), 0ms) << "0: the service's default TTL";
}

TEST_F(Memoizer, NamespacedMemoizerIsInvalidatedWithItsNamespace) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    Gateway gateway;
    auto get_user = cached(cache.in_namespace("v"), "user", 1min,
                           [&gateway](std::int64_t id) { return gateway.find(id); });
    co_await get_user(1);
    co_await get_user(1);
    EXPECT_EQ(gateway.calls.load(), 1);
    co_await cache.invalidate_namespace("v", use_awaitable);
    co_await get_user(1);
    EXPECT_EQ(gateway.calls.load(), 2);
  });
}

TEST_F(Memoizer, EarlyRefreshRenewsAHotKeyBeforeItExpiresWithOneComputation) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> computations = 0, completed = 0, running = 0, most_running = 0;
    auto hot = cached(cache, "hot", 1s, [&](int) -> asio::awaitable<int> {
                 const int version = ++computations;
                 most_running = std::max(most_running.load(), ++running);
                 co_await sleep_for(100ms);  // delta, stored with the value
                 --running;
                 ++completed;
                 co_return version;
               }).early_refresh(1.0);
    EXPECT_EQ(co_await hot(0), 1);
    const auto raw = co_await client.get(hot.key_for(0), use_awaitable);
    CACHE_REQUIRE(raw.has_value());
    EXPECT_TRUE(raw->starts_with(std::string("\0X", 2))) << "delta and expiry are stored";

    // Bursts of 50 concurrent hits every 50 ms, until the refresh has been stored. The pause
    // between bursts is the behaviour under test: time passing brings the entry nearer its
    // expiry, which is what makes a hit draw a refresh.
    const auto started = std::chrono::steady_clock::now();
    std::atomic<int> answered = 0, failed = 0;
    int sent = 0;
    while (completed.load() < 2 && std::chrono::steady_clock::now() - started < 3s) {
      for (int i = 0; i < 50; ++i, ++sent) {
        hot(0, [&](std::exception_ptr e, int version) {
          if (e || version < 1) ++failed;
          ++answered;
        });
      }
      co_await sleep_for(50ms);
    }
    CO_ASSERT_TRUE(co_await test::eventually([&] { return answered.load() == sent; }));
    EXPECT_EQ(completed.load(), 2) << "refreshed once";
    EXPECT_EQ(computations.load(), 2) << "one computation for every caller drawn to refresh";
    EXPECT_EQ(most_running.load(), 1);
    EXPECT_EQ(failed.load(), 0);
    const CacheStats stats = cache.stats();
    EXPECT_EQ(stats.misses, 1u) << "no caller ever found the key missing: no stampede";
    EXPECT_EQ(stats.early_refreshes, 1u);
    EXPECT_GT(co_await client.pttl(hot.key_for(0), use_awaitable), 700) << "a fresh TTL";
    EXPECT_EQ(co_await cache.get<int>(hot.key_for(0), use_awaitable), 2) << "the new value";
  });
}

}  // namespace
}  // namespace asyncredis
