// While Redis is away: what may wait is bounded (errc::overloaded past it), and with fail_fast
// requests fail at once with errc::not_connected instead of each waiting its whole timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::eventually;
using test::failure_of;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

RedisSettings outage_settings(const test::RedisServer& server) {
  RedisSettings settings = server.settings();
  settings.max_connections = 1;
  settings.command_timeout = 20s;
  settings.reconnect_min_delay = 10ms;
  settings.reconnect_max_delay = 50ms;
  settings.health_check_interval = 0ms;
  return settings;
}

struct Outcomes {
  std::vector<errc> codes;
  int done = 0;
  int count(errc code) const {
    return static_cast<int>(std::count(codes.begin(), codes.end(), code));
  }
};

TEST(Outage, WhatMayWaitIsBoundedInRequests) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = outage_settings(server);
    settings.max_queued_requests = 10;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.stop();
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }));
    Outcomes outcomes;
    outcomes.codes.resize(25);
    for (int i = 0; i < 25; ++i) {
      client.get("k", [&, i](std::exception_ptr e, std::optional<std::string>) {
        outcomes.codes[i] = code_of(e);
        ++outcomes.done;
      });
    }
    // The 15 past the bound fail at once; the 10 within it wait for the server.
    CO_ASSERT_TRUE(co_await eventually([&] { return outcomes.done == 15; }));
    EXPECT_EQ(outcomes.count(errc::overloaded), 15);
    for (int i = 10; i < 25; ++i) EXPECT_EQ(outcomes.codes[i], errc::overloaded) << i;
    server.start();
    CO_ASSERT_TRUE(co_await eventually([&] { return outcomes.done == 25; }));
    for (int i = 0; i < 10; ++i) EXPECT_EQ(outcomes.codes[i], errc{}) << i;
    co_await client.disconnect(use_awaitable);
  });
}

TEST(Outage, WhatMayWaitIsBoundedInBytes) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = outage_settings(server);
    settings.max_queued_bytes = 1000;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.stop();
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }));
    const std::string value(400, 'v');
    Outcomes outcomes;
    outcomes.codes.resize(4);
    for (int i = 0; i < 4; ++i) {
      client.set("k" + std::to_string(i), value, [&, i](std::exception_ptr e, bool) {
        outcomes.codes[i] = code_of(e);
        ++outcomes.done;
      });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return outcomes.done == 2; }));
    EXPECT_EQ(outcomes.codes[2], errc::overloaded);
    EXPECT_EQ(outcomes.codes[3], errc::overloaded);
    try {
      co_await client.set("more", value, use_awaitable);
      ADD_FAILURE() << "queued past max_queued_bytes";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::overloaded));
      EXPECT_NE(e.message().find("max_queued_bytes"), std::string::npos) << e.message();
    }
    server.start();
    CO_ASSERT_TRUE(co_await eventually([&] { return outcomes.done == 4; }));
    EXPECT_EQ(outcomes.codes[0], errc{});
    EXPECT_EQ(outcomes.codes[1], errc{});
    co_await client.disconnect(use_awaitable);
  });
}

// Issue 9: with the server stopped, every request waited its whole command_timeout.
TEST(Outage, FailFastFailsAtOnceWhileTheServerIsKnownDown) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = outage_settings(server);
    settings.max_connections = 2;
    settings.fail_fast = true;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.stop();
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }));
    // A request made once the connections are down waits for the first reconnect attempt,
    // and fails when that fails (not after its 20 s timeout).
    auto start = Clock::now();
    EXPECT_EQ(co_await failure_of(client.get("k", use_awaitable)), errc::not_connected);
    EXPECT_LT(Clock::now() - start, 5s);
    // From then on, at once.
    for (int i = 0; i < 20; ++i) {
      start = Clock::now();
      EXPECT_EQ(co_await failure_of(client.get("k", use_awaitable)), errc::not_connected);
      EXPECT_LT(Clock::now() - start, 1s);
    }
    server.start();
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 2; }));
    EXPECT_EQ(co_await failure_of(client.set("k", "back", use_awaitable)), errc{});
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
