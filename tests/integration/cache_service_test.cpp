// CacheService against a real redis-server: every single-key operation, JSON compatibility
// with the Python service, "not found" caching, bad values, the unreachable-Redis policy and
// the statistics.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
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
using test::use_awaitable;
namespace asio = boost::asio;

struct User {
  std::string name;
  int age = 0;
  friend void to_json(nlohmann::json& j, const User& u) { j = {{"name", u.name}, {"age", u.age}}; }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("name").get_to(u.name);
    j.at("age").get_to(u.age);
  }
  friend bool operator==(const User&, const User&) = default;
};

// Awaits `op` and returns the asyncredis error it failed with (errc{} if it succeeded), and
// its message.
template <class Awaitable>
asio::awaitable<std::pair<errc, std::string>> failure_of(Awaitable op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    co_return std::pair{static_cast<errc>(e.code().value()), e.message()};
  }
  co_return std::pair{errc{}, std::string()};
}

class Cache : public test::CacheTest {};

TEST_F(Cache, SetGetDelExistsExpire) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    EXPECT_EQ(co_await cache.get<User>("user:1", use_awaitable), std::nullopt);
    const User ada{"ada", 36};
    co_await cache.set("user:1", ada, use_awaitable);
    EXPECT_EQ(co_await cache.get<User>("user:1", use_awaitable), ada);
    auto json = co_await cache.get_json("user:1", use_awaitable);
    CACHE_REQUIRE(json.has_value());
    EXPECT_EQ((*json)["name"], "ada");
    const auto default_ttl = co_await client.pttl("user:1", use_awaitable);
    EXPECT_GT(default_ttl, 295'000) << "the default TTL of 300 s";
    EXPECT_LE(default_ttl, 300'000);

    const User bob{"bob", 5};
    co_await cache.set("user:2", bob, 20s, use_awaitable);
    const auto ttl = co_await client.pttl("user:2", use_awaitable);
    EXPECT_GT(ttl, 19'000);
    EXPECT_LE(ttl, 20'000);

    EXPECT_TRUE(co_await cache.exists("user:1", use_awaitable));
    EXPECT_FALSE(co_await cache.exists("user:9", use_awaitable));
    EXPECT_TRUE(co_await cache.expire("user:1", 5s, use_awaitable));
    EXPECT_LE(co_await client.pttl("user:1", use_awaitable), 5'000);
    EXPECT_FALSE(co_await cache.expire("user:9", 5s, use_awaitable));
    EXPECT_TRUE(co_await cache.del("user:1", use_awaitable));
    EXPECT_FALSE(co_await cache.del("user:1", use_awaitable));
    EXPECT_FALSE(co_await cache.exists("user:1", use_awaitable));
    EXPECT_EQ(co_await cache.get<User>("user:1", use_awaitable), std::nullopt);

    auto [code, message] = co_await failure_of(cache.expire("user:2", 0ms, use_awaitable));
    EXPECT_EQ(code, errc::invalid_argument);
    std::tie(code, message) = co_await failure_of(cache.set("user:2", 1, -1s, use_awaitable));
    EXPECT_EQ(code, errc::invalid_argument);
  });
}

TEST_F(Cache, MgetReturnsEachKeyInOrder) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    co_await cache.set("a", 1, use_awaitable);
    co_await cache.set("c", 3, use_awaitable);
    co_await cache.set("n", std::nullopt, use_awaitable);
    std::vector<std::string> keys{"a", "b", "c"};
    auto values = co_await cache.mget<int>(keys, use_awaitable);
    CACHE_REQUIRE((values.size()) == (3u));
    EXPECT_EQ(values[0], 1);
    EXPECT_EQ(values[1], std::nullopt);
    EXPECT_EQ(values[2], 3);

    std::vector<std::string> with_none{"n", "a", "zz"};
    auto optional_values = co_await cache.mget<std::optional<int>>(with_none, use_awaitable);
    CACHE_REQUIRE((optional_values.size()) == (3u));
    CACHE_REQUIRE(optional_values[0].has_value());
    EXPECT_EQ(*optional_values[0], std::nullopt);
    EXPECT_EQ(optional_values[1], std::optional<std::optional<int>>(1));
    EXPECT_EQ(optional_values[2], std::nullopt);

    const std::vector<std::string> no_keys;
    EXPECT_TRUE((co_await cache.mget<int>(no_keys, use_awaitable)).empty());

    co_await client.set("bad", "{oops", use_awaitable);
    std::vector<std::string> with_bad{"a", "bad"};
    auto [code, message] = co_await failure_of(cache.mget<int>(with_bad, use_awaitable));
    EXPECT_EQ(code, errc::decode_error);
    EXPECT_NE(message.find("bad"), std::string::npos) << message;
  });
}

TEST_F(Cache, ValuesAreJsonTextBothWays) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    // What Python's json.dumps writes (spaces included) reads back as a T...
    co_await client.set("user:7", R"({"name": "ada", "age": 36})", use_awaitable);
    const User ada{"ada", 36};
    EXPECT_EQ(co_await cache.get<User>("user:7", use_awaitable), ada);
    // ...and what this library writes is plain JSON that json.loads reads.
    const User bob{"bob", 5};
    co_await cache.set("user:8", bob, use_awaitable);
    auto raw = co_await client.get("user:8", use_awaitable);
    CACHE_REQUIRE(raw.has_value());
    EXPECT_EQ(nlohmann::json::parse(*raw), nlohmann::json({{"name", "bob"}, {"age", 5}}));
    const std::vector<int> list{1, 2, 3};
    co_await cache.set("list", list, use_awaitable);
    EXPECT_EQ(co_await client.get("list", use_awaitable), std::optional<std::string>("[1,2,3]"));
    const std::string text = "caf\u00e9";
    co_await cache.set("text", text, use_awaitable);
    EXPECT_EQ(co_await cache.get<std::string>("text", use_awaitable), text);
  });
}

TEST_F(Cache, KeyPrefixIsAppliedToEveryOperation) {
  CacheOptions options;
  options.key_prefix = "app:";
  with_cache(
      [](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("k", 1, use_awaitable);
        EXPECT_EQ(co_await client.get("app:k", use_awaitable), std::optional<std::string>("1"));
        EXPECT_EQ(co_await client.get("k", use_awaitable), std::nullopt);
        EXPECT_EQ(co_await cache.get<int>("k", use_awaitable), 1);
        EXPECT_TRUE(co_await cache.exists("k", use_awaitable));
        EXPECT_TRUE(co_await cache.expire("k", 9s, use_awaitable));
        EXPECT_LE(co_await client.pttl("app:k", use_awaitable), 9'000);
        std::vector<std::string> keys{"k"};
        EXPECT_EQ((co_await cache.mget<int>(keys, use_awaitable))[0], 1);
        EXPECT_TRUE(co_await cache.del("k", use_awaitable));
        EXPECT_EQ(co_await client.exists("app:k", use_awaitable), 0);
      },
      options);
}

TEST_F(Cache, ValueThatDoesNotParseIsAnErrorNamingTheKey) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    co_await client.set("user:1", "not json", use_awaitable);
    auto [code, message] = co_await failure_of(cache.get<User>("user:1", use_awaitable));
    EXPECT_EQ(code, errc::decode_error);
    EXPECT_NE(message.find("user:1"), std::string::npos) << message;

    co_await client.set("user:2", R"({"name": "ada"})", use_awaitable);
    std::tie(code, message) = co_await failure_of(cache.get<User>("user:2", use_awaitable));
    EXPECT_EQ(code, errc::decode_error) << "valid JSON, but not a User";

    // The seed's get_json treated "" as missing; it is a value that is not JSON.
    co_await client.set("empty", "", use_awaitable);
    std::tie(code, message) = co_await failure_of(cache.get_json("empty", use_awaitable));
    EXPECT_EQ(code, errc::decode_error);

    const std::string odd("\0Q", 2);
    co_await client.set("odd", odd, use_awaitable);
    std::tie(code, message) = co_await failure_of(cache.get_json("odd", use_awaitable));
    EXPECT_EQ(code, errc::decode_error);

    // A wrong type in Redis is the server's error, not a miss.
    co_await client.sadd("set", "x", use_awaitable);
    std::tie(code, message) = co_await failure_of(cache.get_json("set", use_awaitable));
    EXPECT_EQ(code, errc::server_error);
    EXPECT_NE(message.find("WRONGTYPE"), std::string::npos);

    EXPECT_EQ(cache.stats().errors, 5u);
  });
}

TEST_F(Cache, NegativeCachingRoundTrip) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    const std::optional<User> nobody;
    co_await cache.set("user:404", nobody, use_awaitable);
    auto found = co_await cache.get<std::optional<User>>("user:404", use_awaitable);
    CACHE_REQUIRE(found.has_value());
    EXPECT_FALSE(found->has_value());
    EXPECT_TRUE(co_await cache.exists("user:404", use_awaitable));
    const auto ttl = co_await client.pttl("user:404", use_awaitable);
    EXPECT_GT(ttl, 55'000) << "negative_ttl, 60 s by default";
    EXPECT_LE(ttl, 60'000);

    // Read as a type that cannot say "not found", it is an error, never a silent miss.
    auto [code, message] = co_await failure_of(cache.get<User>("user:404", use_awaitable));
    EXPECT_EQ(code, errc::decode_error);
    std::tie(code, message) = co_await failure_of(cache.get_json("user:404", use_awaitable));
    EXPECT_EQ(code, errc::decode_error) << "never confused with JSON null";

    // A stored JSON null is a value.
    const nlohmann::json null_json(nullptr);
    co_await cache.set("null", null_json, use_awaitable);
    auto null_value = co_await cache.get<std::optional<nlohmann::json>>("null", use_awaitable);
    CACHE_REQUIRE(null_value.has_value());
    CACHE_REQUIRE(null_value->has_value());
    EXPECT_TRUE((*null_value)->is_null());

    // get_or_set: a computation returning std::nullopt is cached as "not found".
    int computations = 0;
    auto find = [&computations]() -> asio::awaitable<std::optional<User>> {
      ++computations;
      co_return std::nullopt;
    };
    for (int i = 0; i < 3; ++i) {
      auto user = co_await cache.get_or_set("user:405", 30s, find, use_awaitable);
      EXPECT_FALSE(user.has_value());
    }
    EXPECT_EQ(computations, 1) << "\"not found\" is not recomputed (seed mistake 5)";
    EXPECT_LE(co_await client.pttl("user:405", use_awaitable), 60'000)
        << "\"not found\" uses negative_ttl, not the value TTL";

    const CacheStats stats = cache.stats();
    EXPECT_EQ(stats.negative_hits, 5u);
    EXPECT_EQ(stats.sets, 3u);
    EXPECT_EQ(stats.computations, 1u);
  });
}

TEST_F(Cache, NegativeTtlOption) {
  CacheOptions options;
  options.negative_ttl = 2s;
  options.default_ttl = 40s;
  with_cache(
      [](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
        co_await cache.set("none", std::nullopt, use_awaitable);
        EXPECT_LE(co_await client.pttl("none", use_awaitable), 2'000);
        co_await cache.set("none2", std::nullopt, 7s, use_awaitable);
        EXPECT_GT(co_await client.pttl("none2", use_awaitable), 2'000) << "an explicit TTL wins";
        co_await cache.set("value", 1, use_awaitable);
        EXPECT_GT(co_await client.pttl("value", use_awaitable), 35'000);
      },
      options);
}

TEST_F(Cache, GetOrSetComputesOnceThenHits) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    int computations = 0;
    auto compute = [&computations]() -> asio::awaitable<User> {
      ++computations;
      co_return User{"ada", 36};
    };
    const User ada{"ada", 36};
    EXPECT_EQ(co_await cache.get_or_set("user:1", 30s, compute, use_awaitable), ada);
    EXPECT_EQ(co_await cache.get_or_set("user:1", 30s, compute, use_awaitable), ada);
    EXPECT_EQ(computations, 1);
    const auto ttl = co_await client.pttl("user:1", use_awaitable);
    EXPECT_GT(ttl, 29'000);
    EXPECT_LE(ttl, 30'000);
    // An explicit result type, and the options form.
    GetOrSetOptions options;
    options.ttl = 0ms;  // the default TTL
    auto json =
        co_await cache.get_or_set<nlohmann::json>("user:2", options, compute, use_awaitable);
    EXPECT_EQ(json["age"], 36);
    EXPECT_GT(co_await client.pttl("user:2", use_awaitable), 290'000);
    const CacheStats stats = cache.stats();
    EXPECT_EQ(stats.hits, 1u);
    EXPECT_EQ(stats.misses, 2u);
    EXPECT_EQ(stats.sets, 2u);
  });
}

TEST_F(Cache, AnyCompletionToken) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    bool set_done = false;
    cache.set("k", 5, [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      set_done = true;
    });
    CO_ASSERT_TRUE(co_await test::eventually([&] { return set_done; }));
    std::optional<int> got;
    bool get_done = false;
    cache.get<int>("k", [&](std::exception_ptr e, std::optional<int> v) {
      EXPECT_FALSE(e);
      got = v;
      get_done = true;
    });
    CO_ASSERT_TRUE(co_await test::eventually([&] { return get_done; }));
    EXPECT_EQ(got, 5);
    // deferred: composed later, run with use_awaitable
    auto op = cache.del("k");
    EXPECT_TRUE(co_await std::move(op)(use_awaitable));
    co_await client.disconnect(use_awaitable);
  });
}

// Callbacks made by handler(): how many completed, and how many of them on `strand`.
struct StrandTally {
  asio::strand<asio::io_context::executor_type> strand;
  int done = 0;
  int on_strand = 0;

  auto handler() {
    return [this](std::exception_ptr e, auto) {
      EXPECT_FALSE(e);
      if (strand.running_in_this_thread()) ++on_strand;
      ++done;
    };
  }
  asio::awaitable<void> wait_for(int completions) {
    EXPECT_TRUE(co_await test::eventually([&] { return done >= completions; }));
  }
};

TEST_F(Cache, HandlersRunOnTheirOwnExecutor) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    CacheService namespaced = cache.in_namespace("ns");
    co_await cache.set("hit", 1, use_awaitable);
    StrandTally tally{asio::make_strand(io)};
    auto on_strand = [&] { return asio::bind_executor(tally.strand, tally.handler()); };
    auto compute = []() -> asio::awaitable<int> { co_return 2; };
    cache.get<int>("hit", on_strand());                   // hit
    cache.get<int>("miss", on_strand());                  // miss
    namespaced.get<int>("miss", on_strand());             // namespaced
    cache.get_or_set("fill", 10s, compute, on_strand());  // computed
    cache.get_or_set("hit", 10s, compute, on_strand());   // hit
    co_await tally.wait_for(5);
    EXPECT_EQ(tally.on_strand, 5);
    co_await client.disconnect(use_awaitable);
  });
}

// A service made on a strand runs the callbacks that have no executor of their own there,
// on its hit path too (whose GET completes on the client's executor first).
TEST_F(Cache, UnboundHandlersRunOnTheServicesExecutor) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    StrandTally tally{asio::make_strand(io)};
    CacheService cache(static_cast<const Commands&>(client), tally.strand);
    co_await cache.set("hit", 1, use_awaitable);
    auto check = [&] { return tally.handler(); };
    auto compute = []() -> asio::awaitable<int> { co_return 2; };
    auto square = cached(cache, "sq", 10s, [](int x) -> asio::awaitable<int> { co_return x* x; });
    const int computed = co_await square(3, use_awaitable);
    const int remembered = co_await square(3, use_awaitable);
    EXPECT_EQ(computed + remembered, 18);
    cache.get<int>("hit", check());                   // hit
    cache.get<int>("miss", check());                  // miss
    cache.get_or_set("hit", 10s, compute, check());   // hit
    cache.get_or_set("fill", 10s, compute, check());  // computed
    square(3, check());                               // a hit through cached()
    square(5, check());                               // computed through cached()
    co_await tally.wait_for(6);
    EXPECT_EQ(tally.on_strand, 6);
    co_await client.disconnect(use_awaitable);
  });
}

// CacheOptions::default_ttl 0 (the default) is the client's RedisSettings::default_ttl; a
// service over a command view, with no settings, uses 300 s; a set default_ttl wins; a
// negative one is refused.
TEST_F(Cache, DefaultTtlComesFromTheClientsSettings) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.default_ttl = std::chrono::seconds(7);
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    EXPECT_EQ(cache.options().default_ttl, 7s);
    co_await cache.set("ttl:settings", 1, use_awaitable);
    const auto from_settings = co_await client.pttl("ttl:settings", use_awaitable);
    EXPECT_GT(from_settings, 6'000);
    EXPECT_LE(from_settings, 7'000);

    CacheService over_view(static_cast<const Commands&>(client), client.get_executor());
    EXPECT_EQ(over_view.options().default_ttl, 300s);

    CacheOptions options;
    options.default_ttl = 20s;
    CacheService own(client, options);
    co_await own.set("ttl:own", 1, use_awaitable);
    const auto own_ttl = co_await client.pttl("ttl:own", use_awaitable);
    EXPECT_GT(own_ttl, 19'000);
    EXPECT_LE(own_ttl, 20'000);

    options.default_ttl = -1s;
    try {
      CacheService refused(client, options);
      ADD_FAILURE() << "a negative default_ttl was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(static_cast<errc>(e.code().value()), errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("default_ttl"), std::string::npos) << e.what();
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Cache, UseFutureFromAnotherThread) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), server_->settings());
    client.connect(asio::use_future).get();
    CacheService cache(client);
    cache.set("f", User{"x", 1}, asio::use_future).get();
    EXPECT_EQ(cache.get<User>("f", asio::use_future).get(), (User{"x", 1}));
    EXPECT_EQ(cache.stats().hits, 1u) << "statistics are readable from any thread";
    client.disconnect(asio::use_future).get();
  }
  work.reset();
  runner.join();
}

// A server that is gone: one dedicated server per test, stopped mid-test.
void with_stopped_server(WhenUnavailable policy,
                         std::function<asio::awaitable<void>(CacheService&)> body) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.command_timeout = 300ms;
    settings.connect_timeout = 300ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.when_unavailable = policy;
    CacheService cache(client, options);
    co_await cache.set("k", 1, use_awaitable);
    server.stop();
    co_await body(cache);
    co_await client.disconnect(use_awaitable);
  });
}

TEST(CacheUnavailable, FailPolicyReturnsTheClientsError) {
  with_stopped_server(WhenUnavailable::fail, [](CacheService& cache) -> asio::awaitable<void> {
    auto [code, message] = co_await failure_of(cache.get<int>("k", use_awaitable));
    EXPECT_TRUE(code == errc::connection_lost || code == errc::not_connected ||
                code == errc::timeout)
        << message;
    std::tie(code, message) = co_await failure_of(cache.set("k", 2, use_awaitable));
    EXPECT_NE(code, errc{});
    int computations = 0;
    auto compute = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_return 7;
    };
    std::tie(code, message) =
        co_await failure_of(cache.get_or_set("k", 1s, compute, use_awaitable));
    EXPECT_NE(code, errc{});
    EXPECT_EQ(computations, 0);
    EXPECT_EQ(cache.stats().errors, 3u);
  });
}

TEST(CacheUnavailable, MissPolicyComputesAndSkipsTheWrite) {
  with_stopped_server(
      WhenUnavailable::treat_as_miss, [](CacheService& cache) -> asio::awaitable<void> {
        EXPECT_EQ(co_await cache.get<int>("k", use_awaitable), std::nullopt);
        std::vector<std::string> keys{"k", "j"};
        auto values = co_await cache.mget<int>(keys, use_awaitable);
        EXPECT_EQ(values, (std::vector<std::optional<int>>{{}, {}}));
        EXPECT_FALSE(co_await cache.exists("k", use_awaitable));
        co_await cache.set("k", 2, use_awaitable);  // skipped, no error
        int computations = 0;
        auto compute = [&computations]() -> asio::awaitable<int> {
          ++computations;
          co_return 7;
        };
        EXPECT_EQ(co_await cache.get_or_set("k", 1s, compute, use_awaitable), 7);
        EXPECT_EQ(computations, 1);
        // Invalidations never pass silently.
        auto [code, message] = co_await failure_of(cache.del("k", use_awaitable));
        EXPECT_NE(code, errc{});
        std::tie(code, message) = co_await failure_of(cache.delete_pattern("*", use_awaitable));
        EXPECT_NE(code, errc{});
        std::tie(code, message) = co_await failure_of(cache.expire("k", 1s, use_awaitable));
        EXPECT_NE(code, errc{});
        const CacheStats stats = cache.stats();
        EXPECT_EQ(stats.misses, 4u);
        EXPECT_EQ(stats.errors, 8u) << "absorbed errors are counted too";
        EXPECT_EQ(stats.sets, 1u) << "only the one before the outage";
      });
}

}  // namespace
}  // namespace asyncredis
