// A stalled server (accepts, never answers), made by the proxy's blackhole: each operation
// fails at its own timeout, the health check notices and replaces the connection, and the pool
// keeps serving from its healthy connections meanwhile.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::eventually;
using test::failure_of;
using test::FaultProxy;
using test::run_async;
using test::sleep_for;
using test::Tally;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

RedisSettings through(const FaultProxy& proxy, const test::RedisServer& server,
                      std::size_t connections, std::chrono::milliseconds health_check) {
  RedisSettings settings = proxy.settings(server.settings());
  settings.max_connections = connections;
  settings.health_check_interval = health_check;
  settings.connect_timeout = 300ms;
  settings.reconnect_min_delay = 10ms;
  settings.reconnect_max_delay = 50ms;
  return settings;
}

TEST(FaultsStall, EachOperationFailsAtItsOwnTimeout) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server, 1, 0ms));
    co_await client.connect(use_awaitable);
    proxy.blackhole(true);
    const auto start = Clock::now();
    struct Outcome {
      std::chrono::milliseconds timeout;
      errc code{};
      Clock::duration took{};
      bool done = false;
    };
    std::vector<Outcome> outcomes = {{150ms}, {400ms}, {800ms}};
    for (Outcome& o : outcomes) {
      client.with_timeout(o.timeout).get("k",
                                         [&](std::exception_ptr e, std::optional<std::string>) {
                                           o.code = code_of(e);
                                           o.took = Clock::now() - start;
                                           o.done = true;
                                         });
    }
    CO_ASSERT_TRUE(co_await eventually([&] {
      return std::all_of(outcomes.begin(), outcomes.end(), [](auto& o) { return o.done; });
    }))
    for (const Outcome& o : outcomes) {
      SCOPED_TRACE("timeout " + std::to_string(o.timeout.count()) + " ms");
      EXPECT_EQ(o.code, errc::timeout);
      EXPECT_GE(o.took, o.timeout);
      EXPECT_LT(o.took, o.timeout + 300ms) << "late by far more than scheduling explains";
    }
    proxy.blackhole(false);
    // The late replies to the timed-out GETs are dropped, not handed to the next request.
    const std::string mine = "mine";
    EXPECT_EQ(co_await client.command<std::string>("ECHO", mine, use_awaitable), mine);
  });
}

TEST(FaultsStall, HealthCheckReplacesAStalledIdleConnection) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server, 1, 100ms));
    co_await client.connect(use_awaitable);
    const auto stalled = proxy.connection_ids();
    CO_ASSERT_EQ(stalled.size(), 1u)
    proxy.blackhole_connection(stalled.front(), true);  // the server "hangs" on this one only
    // Nothing of ours is pending: only the health check can notice.
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().reconnects >= 1; }, 3s))
    EXPECT_EQ(proxy.accepted(), 2u);
    // The proxy learns of the close on its own thread, after the client has moved on.
    EXPECT_TRUE(co_await eventually([&] {
      const auto ids = proxy.connection_ids();
      return std::find(ids.begin(), ids.end(), stalled.front()) == ids.end();
    })) << "the client closed the stalled connection";
    const std::string mine = "fresh";
    EXPECT_EQ(co_await client.command<std::string>("ECHO", mine, use_awaitable), mine);
  });
}

TEST(FaultsStall, HealthCheckFailsWrittenRequestsLongBeforeTheirTimeout) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server, 1, 100ms));
    co_await client.connect(use_awaitable);
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    const auto start = Clock::now();
    const Commands patient = client.with_timeout(10s);
    EXPECT_EQ(co_await failure_of(patient.get("k", use_awaitable)), errc::connection_lost);
    EXPECT_LT(Clock::now() - start, 2s) << "the health check should have given up on it";
    // Marked safe to retry, the same request survives the replacement.
    const Commands retrying = client.with({.timeout = 10s, .retry_on_reconnect = true});
    co_await client.set("k", "v", use_awaitable);
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    EXPECT_EQ(co_await retrying.get("k", use_awaitable), std::optional<std::string>("v"));
    EXPECT_GE(client.stats().reconnects, 2u);
  });
}

TEST(FaultsStall, PoolKeepsServingFromHealthyConnections) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = through(proxy, server, 4, 200ms);
    settings.command_timeout = 300ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 4; }))
    const auto ids = proxy.connection_ids();
    CO_ASSERT_EQ(ids.size(), 4u)
    proxy.blackhole_connection(ids[1], true);

    // 4 requests every 10 ms, each checked against its own payload: until the health check
    // has replaced the stalled connection (3 s at the most), then 70 rounds more.
    Tally early, late;  // issued before / after the replacement
    int issued_early = 0, issued_late = 0;
    const auto start = Clock::now();
    int late_rounds = 0;
    for (int round = 0; late_rounds < 70; ++round) {
      const bool is_early = client.stats().reconnects == 0;
      if (is_early && Clock::now() - start > 3s) break;
      if (!is_early) ++late_rounds;
      for (int i = 0; i < 4; ++i) {
        test::echo(client, "r" + std::to_string(round) + "-" + std::to_string(i),
                   is_early ? early : late);
        ++(is_early ? issued_early : issued_late);
      }
      // Pacing, not a wait: a steady stream of requests while the pool heals.
      co_await sleep_for(10ms);
    }
    EXPECT_EQ(late_rounds, 70) << "the health check did not replace the stalled connection";
    CO_ASSERT_TRUE(
        co_await eventually([&] { return early.done == issued_early && late.done == issued_late; }))
    std::printf(
        "pool: before the replacement %d of %d failed (%d timed out, %d lost); after "
        "it %d of %d\n",
        early.done - early.ok, early.done.load(), early.timed_out.load(), early.lost.load(),
        late.done - late.ok, late.done.load());
    EXPECT_EQ(early.wrong + late.wrong, 0);
    EXPECT_EQ(early.other + late.other, 0);
    EXPECT_GT(early.ok, 3 * (early.done - early.ok)) << "most requests went to healthy ones";
    EXPECT_EQ(late.ok, late.done) << "the stalled connection was replaced in time";
    EXPECT_GE(proxy.accepted(), 5u);
    EXPECT_EQ(client.stats().connected, 4u);
  });
}

TEST(FaultsStall, FullyStalledServerFailsOperationsThenRecovers) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server, 2, 100ms));
    co_await client.connect(use_awaitable);
    proxy.blackhole(true);  // open connections and every reconnect's handshake
    const Commands quick = client.with_timeout(250ms);
    for (int i = 0; i < 5; ++i) {
      const auto start = Clock::now();
      const errc failure = co_await failure_of(quick.get("k", use_awaitable));
      EXPECT_TRUE(failure == errc::timeout || failure == errc::connection_lost)
          << static_cast<int>(failure);
      EXPECT_LT(Clock::now() - start, 1s);
    }
    // 2 connections, each replaced (the health check), and at least one stalled handshake
    // timed out and retried: 5 accepted.
    EXPECT_TRUE(co_await eventually([&] { return proxy.accepted() >= 5; }))
        << "stalled connections were replaced, stalled handshakes retried: " << proxy.accepted();
    proxy.blackhole(false);
    const std::string mine = "recovered";
    EXPECT_EQ(co_await client.command<std::string>("ECHO", mine, use_awaitable), mine);
  });
}

}  // namespace
}  // namespace asyncredis
