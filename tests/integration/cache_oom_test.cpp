// The cache's unavailable policy for a full server: a real redis-server at its maxmemory with
// noeviction answers every write with "-OOM command not allowed ...", which is_unavailable()
// counts as Redis unable to serve now. treat_as_miss skips the write (the value is computed and
// returned all the same); fail reports the server's error.
#include <gtest/gtest.h>

#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

template <class Awaitable>
asio::awaitable<Error> failure_of(Awaitable op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    co_return e;
  }
  co_return Error(errc{}, "no error");
}

// Runs `body` with a cache over a server that has stored "before" and is now full.
void with_full_server(WhenUnavailable policy,
                      std::function<asio::awaitable<void>(RedisClient&, CacheService&)> body) {
  test::RedisServer server({.extra_args = {"--maxmemory-policy", "noeviction"}});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.when_unavailable = policy;
    CacheService cache(client, options);
    co_await cache.set("before", 1, use_awaitable);
    server.cli({"CONFIG", "SET", "maxmemory", "1"});
    // What the cache will meet: the server's own refusal, an error reply.
    const Error refused = co_await failure_of(client.set("probe", "1", use_awaitable));
    EXPECT_EQ(refused.code(), make_error_code(errc::server_error));
    EXPECT_TRUE(refused.message().starts_with("OOM ")) << refused.message();
    co_await body(client, cache);
    server.cli({"CONFIG", "SET", "maxmemory", "0"});
    co_await client.disconnect(use_awaitable);
  });
}

TEST(CacheOutOfMemory, MissPolicyComputesReturnsAndSkipsTheWrite) {
  with_full_server(WhenUnavailable::treat_as_miss,
                   [](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
                     const CacheStats before = cache.stats();
                     co_await cache.set("k", 2, use_awaitable);  // skipped, no error
                     int computations = 0;
                     auto compute = [&computations]() -> asio::awaitable<int> {
                       ++computations;
                       co_return 7;
                     };
                     EXPECT_EQ(co_await cache.get_or_set("new", 1min, compute, use_awaitable), 7);
                     EXPECT_EQ(co_await cache.get_or_set("new", 1min, compute, use_awaitable), 7);
                     EXPECT_EQ(computations, 2) << "nothing was stored, so nothing hits";
                     auto memoized = cached(cache, "m", 1min, [&](int x) -> asio::awaitable<int> {
                       ++computations;
                       co_return x;
                     });
                     EXPECT_EQ(co_await memoized(5), 5);
                     EXPECT_EQ(co_await client.exists("new", use_awaitable), 0);
                     // Reads still work on a full server.
                     EXPECT_EQ(co_await cache.get<int>("before", use_awaitable), 1);
                     const CacheStats after = cache.stats();
                     EXPECT_EQ(after.sets, before.sets);
                     EXPECT_EQ(after.errors - before.errors, 4u) << "each refused write counted";
                   });
}

TEST(CacheOutOfMemory, FailPolicyReportsTheServersError) {
  with_full_server(WhenUnavailable::fail,
                   [](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
                     const Error e = co_await failure_of(cache.set("k", 2, use_awaitable));
                     EXPECT_EQ(e.code(), make_error_code(errc::server_error));
                     EXPECT_TRUE(e.message().starts_with("OOM ")) << e.message();
                   });
}

}  // namespace
}  // namespace asyncredis
