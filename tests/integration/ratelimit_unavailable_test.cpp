// RateLimiter when Redis cannot be reached: fail open, fail closed, the local fallback, for a
// client that never connected, one whose server died, and one aimed at a closed port; the
// cooldown; cancellation staying an error; reset and option errors.
#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

errc code_of(std::error_code code) {
  return code.category() == category() ? static_cast<errc>(code.value()) : errc{};
}

bool is_outage(std::error_code code) {
  const errc e = code_of(code);
  return e == errc::timeout || e == errc::connection_lost || e == errc::not_connected;
}

TEST(RateLimitUnavailable, NeverConnectedClientFollowsEachPolicy) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), RedisSettings{});  // connect() never called

    RateLimiter open(client, {.on_unavailable = OnUnavailable::fail_open});
    RateLimitResult r = co_await open.check("k", 5, 1min, 2, use_awaitable);
    EXPECT_TRUE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::failed_open);
    EXPECT_EQ(code_of(r.unavailable_error), errc::not_connected);
    EXPECT_EQ(r.remaining, 3);
    EXPECT_EQ(r.retry_after, 0ms);
    EXPECT_EQ(r.limit, 5);

    RateLimiter closed(client, {.on_unavailable = OnUnavailable::fail_closed});
    r = co_await closed.check("k", 5, 1min, use_awaitable);
    EXPECT_FALSE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);
    EXPECT_EQ(code_of(r.unavailable_error), errc::not_connected);
    EXPECT_EQ(r.remaining, 0);
    EXPECT_EQ(r.retry_after, 1s);
    EXPECT_EQ(rate_limit_headers(r).back(),
              (std::pair<std::string, std::string>("Retry-After", "1")));

    RateLimiter local(client, {.on_unavailable = OnUnavailable::local_fallback});
    for (int i = 0; i < 3; ++i) {
      r = co_await local.check("k", 3, 1h, use_awaitable);
      EXPECT_TRUE(r.allowed);
      EXPECT_EQ(r.remaining, 2 - i);
      EXPECT_EQ(r.decided_by, DecidedBy::local_fallback);
      EXPECT_EQ(code_of(r.unavailable_error), errc::not_connected);
    }
    EXPECT_FALSE((co_await local.check("k", 3, 1h, use_awaitable)).allowed);
    EXPECT_TRUE((co_await local.check("other", 3, 1h, use_awaitable)).allowed);
    EXPECT_FALSE((co_await local.peek("k", 3, 1h, use_awaitable)).allowed);
    EXPECT_EQ(local.local_limiter().size(), 2u);

    // The fallback keeps the limiter's strategy: GCRA's burst bounds it.
    RateLimiter gcra(client, {.strategy = RateLimitStrategy::gcra,
                              .on_unavailable = OnUnavailable::local_fallback});
    const RateLimit rate{100, 1s, 2};
    EXPECT_TRUE((co_await gcra.check("g", rate, use_awaitable)).allowed);
    EXPECT_TRUE((co_await gcra.check("g", rate, use_awaitable)).allowed);
    r = co_await gcra.check("g", rate, use_awaitable);
    EXPECT_FALSE(r.allowed);
    EXPECT_GT(r.retry_after, 0ms);
    EXPECT_LE(r.retry_after, 10ms) << "one unit refills in 10 ms at 100 per second";
  });
}

TEST(RateLimitUnavailable, ClientWhoseServerDiedFollowsEachPolicyWithinTheTimeout) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.reconnect_min_delay = 20ms;
    settings.reconnect_max_delay = 100ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    RateLimiter open(client, {.on_unavailable = OnUnavailable::fail_open, .timeout = 300ms});
    RateLimiter closed(client, {.on_unavailable = OnUnavailable::fail_closed, .timeout = 300ms});
    RateLimiter local(client, {.on_unavailable = OnUnavailable::local_fallback, .timeout = 300ms});
    EXPECT_EQ((co_await open.check("k", 2, 1h, use_awaitable)).decided_by, DecidedBy::redis);

    server.stop();
    auto start = Clock::now();
    RateLimitResult r = co_await open.check("k", 2, 1h, use_awaitable);
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_TRUE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::failed_open);
    EXPECT_TRUE(is_outage(r.unavailable_error)) << r.unavailable_error.message();

    start = Clock::now();
    r = co_await closed.check("k", 2, 1h, use_awaitable);
    EXPECT_LT(Clock::now() - start, 1s);
    EXPECT_FALSE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);
    EXPECT_TRUE(is_outage(r.unavailable_error)) << r.unavailable_error.message();

    for (int i = 0; i < 2; ++i) {
      r = co_await local.check("k", 2, 1h, use_awaitable);
      EXPECT_TRUE(r.allowed);
      EXPECT_EQ(r.decided_by, DecidedBy::local_fallback);
    }
    r = co_await local.check("k", 2, 1h, use_awaitable);
    EXPECT_FALSE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::local_fallback);

    // Back to Redis as soon as it answers again (no cooldown configured): checks decided by the
    // policy until the client has reconnected, then by Redis.
    server.start();
    CO_ASSERT_TRUE(co_await test::eventually([&] { return client.stats().connected > 0; }));
    EXPECT_EQ((co_await open.check("k", 2, 1h, use_awaitable)).decided_by, DecidedBy::redis);
  });
}

TEST(RateLimitUnavailable, NothingListeningOnThePort) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings;
    settings.host = "127.0.0.1";
    settings.port = test::free_port();
    settings.connect_timeout = 1s;
    RedisClient client(io.get_executor(), settings);
    try {
      co_await client.connect(use_awaitable);
      ADD_FAILURE() << "connected to a closed port";
    } catch (const Error&) {
    }
    RateLimiter closed(client, {.on_unavailable = OnUnavailable::fail_closed});
    RateLimitResult r = co_await closed.check("k", 5, 1min, use_awaitable);
    EXPECT_FALSE(r.allowed);
    EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);
    EXPECT_TRUE(is_outage(r.unavailable_error)) << r.unavailable_error.message();
  });
}

TEST(RateLimitUnavailable, AServerOutOfMemoryFollowsEachPolicy) {
  // At its maxmemory with noeviction, a real redis-server refuses each counting script's write
  // with "-OOM ...": Redis cannot serve now, and the policy decides.
  test::RedisServer server({.extra_args = {"--maxmemory-policy", "noeviction"}});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    RateLimiter open(client, {.on_unavailable = OnUnavailable::fail_open});
    EXPECT_EQ((co_await open.check("k", 2, 1h, use_awaitable)).decided_by, DecidedBy::redis);
    server.cli({"CONFIG", "SET", "maxmemory", "1"});

    for (const auto strategy : {RateLimitStrategy::fixed_window, RateLimitStrategy::sliding_window,
                                RateLimitStrategy::gcra}) {
      SCOPED_TRACE(std::string(to_string(strategy)));
      RateLimiter allow(client, {.strategy = strategy, .on_unavailable = OnUnavailable::fail_open});
      RateLimitResult r = co_await allow.check("k", 2, 1h, use_awaitable);
      EXPECT_TRUE(r.allowed);
      EXPECT_EQ(r.decided_by, DecidedBy::failed_open);
      EXPECT_EQ(code_of(r.unavailable_error), errc::server_error);

      RateLimiter deny(client,
                       {.strategy = strategy, .on_unavailable = OnUnavailable::fail_closed});
      r = co_await deny.check("k", 2, 1h, use_awaitable);
      EXPECT_FALSE(r.allowed);
      EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);

      RateLimiter local(client,
                        {.strategy = strategy, .on_unavailable = OnUnavailable::local_fallback});
      r = co_await local.check("k", 2, 1h, use_awaitable);
      EXPECT_TRUE(r.allowed);
      EXPECT_EQ(r.decided_by, DecidedBy::local_fallback);

      // A peek writes nothing, so Redis still answers it.
      EXPECT_EQ((co_await deny.peek("k", 2, 1h, use_awaitable)).decided_by, DecidedBy::redis);
    }
    server.cli({"CONFIG", "SET", "maxmemory", "0"});
    EXPECT_EQ((co_await open.check("k", 2, 1h, use_awaitable)).decided_by, DecidedBy::redis);
    co_await client.disconnect(use_awaitable);
  });
}

TEST(RateLimitUnavailable, CooldownSkipsRedisAfterAnOutage) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    RateLimiter limiter(
        client, {.on_unavailable = OnUnavailable::fail_closed, .timeout = 300ms, .cooldown = 5s});
    server.suspend();  // answers nothing: every ask would cost the whole timeout
    auto start = Clock::now();
    RateLimitResult first = co_await limiter.check("k", 5, 1min, use_awaitable);
    EXPECT_GE(Clock::now() - start, 250ms);
    EXPECT_EQ(code_of(first.unavailable_error), errc::timeout);
    start = Clock::now();
    for (int i = 0; i < 5; ++i) {
      RateLimitResult r = co_await limiter.check("k", 5, 1min, use_awaitable);
      EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);
      EXPECT_EQ(r.unavailable_error, first.unavailable_error);
    }
    EXPECT_LT(Clock::now() - start, 100ms) << "Redis was asked during the cooldown";
    server.resume();
  });
}

TEST(RateLimitUnavailable, ZeroTimeoutMeansTheClientsCommandTimeout) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.command_timeout = 400ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    RateLimiter limiter(client, {.on_unavailable = OnUnavailable::fail_open, .timeout = 0ms});
    server.suspend();
    const auto start = Clock::now();
    RateLimitResult r = co_await limiter.check("k", 5, 1min, use_awaitable);
    const auto took = Clock::now() - start;
    server.resume();
    EXPECT_EQ(code_of(r.unavailable_error), errc::timeout);
    EXPECT_GE(took, 350ms) << "0 must mean the client's 400 ms, not 'no wait'";
    EXPECT_LT(took, 1s);
  });
}

TEST(RateLimitUnavailable, DeferredAndCallbackTokensWork) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), RedisSettings{});
    RateLimiter limiter(client, {.on_unavailable = OnUnavailable::fail_closed});
    auto deferred = limiter.check("k", 5, 1min);  // nothing runs until it is given a handler
    int calls = 0;
    std::move(deferred)([&](std::exception_ptr e, RateLimitResult r) {
      EXPECT_FALSE(e);
      EXPECT_EQ(r.decided_by, DecidedBy::failed_closed);
      ++calls;
    });
    limiter.reset("k", [&](std::exception_ptr e) {
      EXPECT_EQ(code_of(error_code_of(e)), errc::not_connected);
      ++calls;
    });
    EXPECT_TRUE(co_await test::eventually([&] { return calls == 2; }));
  });
}

TEST(RateLimitUnavailable, CancellationIsAnErrorNotAnOutage) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    RateLimiter limiter(client, {.on_unavailable = OnUnavailable::fail_open, .timeout = 3s});
    server.suspend();
    asio::cancellation_signal signal;
    bool done = false;
    std::exception_ptr error;
    RateLimitResult result;
    limiter.check(
        "k", 5, 1min,
        asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, RateLimitResult r) {
          error = e;
          result = r;
          done = true;
        }));
    // Cancelled once its script is on its way to the server that does not answer.
    CO_ASSERT_TRUE(co_await test::eventually([&] { return client.stats().pending_requests > 0; }));
    signal.emit(asio::cancellation_type::terminal);
    EXPECT_TRUE(co_await test::eventually([&] { return done; })) << "cancel did not end the check";
    server.resume();
    EXPECT_EQ(code_of(error_code_of(error)), errc::cancelled) << error_message_of(error);
  });
}

TEST(RateLimitUnavailable, ResetReportsTheOutageButClearsTheFallback) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), RedisSettings{});
    RateLimiter limiter(client, {.on_unavailable = OnUnavailable::local_fallback});
    co_await limiter.check("k", 1, 1h, use_awaitable);
    EXPECT_FALSE((co_await limiter.check("k", 1, 1h, use_awaitable)).allowed);
    try {
      co_await limiter.reset("k", use_awaitable);
      ADD_FAILURE() << "reset succeeded without Redis";
    } catch (const Error& e) {
      EXPECT_EQ(code_of(e.code()), errc::not_connected) << e.what();
    }
    EXPECT_TRUE((co_await limiter.check("k", 1, 1h, use_awaitable)).allowed);
  });
}

TEST(RateLimitUnavailable, BadOptionsAreRefused) {
  asio::io_context io;
  RedisClient client(io.get_executor(), RedisSettings{});
  for (RateLimiterOptions bad :
       {RateLimiterOptions{.local_max_keys = 0}, RateLimiterOptions{.timeout = -1ms},
        RateLimiterOptions{.cooldown = -1ms}}) {
    try {
      RateLimiter limiter(client, bad);
      ADD_FAILURE() << "accepted";
    } catch (const Error& e) {
      EXPECT_EQ(code_of(e.code()), errc::invalid_argument);
    }
  }
}

}  // namespace
}  // namespace asyncredis
