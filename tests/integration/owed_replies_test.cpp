// Connections that still owe replies to requests given up (timed out, cancelled): never handed
// to another lease, never picked by the pool, replaced when the reply does not come, and no
// obstacle to disconnect().
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::failure_of;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// A client that connects through a fault proxy, with health checks off (they would find a
// blackholed connection by themselves) and a short abandoned_reply_timeout.
struct Proxied {
  test::RedisServer server;
  test::FaultProxy proxy{server.port()};

  RedisSettings settings(std::size_t connections) const {
    RedisSettings s = proxy.settings(server.settings());
    s.max_connections = connections;
    s.health_check_interval = 0ms;
    s.abandoned_reply_timeout = 1s;
    s.reconnect_min_delay = 10ms;
    s.reconnect_max_delay = 50ms;
    return s;
  }
};

bool blocked_on_the_server(const test::RedisServer& server, const std::string& command) {
  return server.cli({"CLIENT", "LIST"}).find("cmd=" + command) != std::string::npos;
}

// Issue 9, case 1: a BLPOP that timed out on a lease kept blocking on the server, and the next
// lease() got that connection: its PING timed out.
TEST(OwedReplies, ALeaseWhoseBlockingCommandTimedOutIsNotHandedOutAgain) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 2;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    {
      Lease lease = co_await client.lease(use_awaitable);
      auto blpop = lease.with_timeout(500ms).command<Reply>("BLPOP", "q", 0, use_awaitable);
      EXPECT_EQ(co_await failure_of(std::move(blpop)), errc::timeout);
    }
    Lease next = co_await client.lease(use_awaitable);
    auto ping = next.with_timeout(2s).ping(use_awaitable);
    EXPECT_EQ(co_await failure_of(std::move(ping)), errc{});
    // The connection that still blocked was closed, so nothing blocks on the server now.
    EXPECT_TRUE(co_await eventually([&] { return !blocked_on_the_server(server, "blpop"); }));
    co_await client.disconnect(use_awaitable);
  });
}

// Issue 9, case 2: after a request timed out on one connection of the pool, every other
// request routed there timed out too.
TEST(OwedReplies, ThePoolRoutesAroundAConnectionThatOwesAndReplacesIt) {
  Proxied proxied;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), proxied.settings(2));
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 2; }));
    const auto ids = proxied.proxy.connection_ids();
    CO_ASSERT_EQ(ids.size(), 2u);
    proxied.proxy.blackhole_connection(ids[0], true);  // that connection's server goes silent

    int timed_out = 0;
    for (int i = 0; i < 30; ++i) {
      auto ping = client.with_timeout(300ms).ping(use_awaitable);
      if (co_await failure_of(std::move(ping)) == errc::timeout) ++timed_out;
    }
    EXPECT_EQ(timed_out, 1) << "only the first request routed there, then never again";
    EXPECT_EQ(client.stats().reconnects, 0u);
    // Its reply does not come: after abandoned_reply_timeout the connection is replaced.
    EXPECT_TRUE(co_await eventually([&] { return client.stats().reconnects == 1; }));
    EXPECT_TRUE(co_await eventually([&] { return client.stats().connected == 2; }));
    for (int i = 0; i < 20; ++i) {
      auto ping = client.with_timeout(2s).ping(use_awaitable);
      EXPECT_EQ(co_await failure_of(std::move(ping)), errc{});
    }
    co_await client.disconnect(use_awaitable);
  });
}

// What waits behind an owed reply is not written behind it: it goes out on the connection that
// replaces the silent one, well within its own timeout.
TEST(OwedReplies, WhatWaitsBehindAnOwedReplyGoesOutOnTheNextConnection) {
  Proxied proxied;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), proxied.settings(1));
    co_await client.connect(use_awaitable);
    co_await client.set("k", "v", use_awaitable);
    const auto ids = proxied.proxy.connection_ids();
    CO_ASSERT_EQ(ids.size(), 1u);
    proxied.proxy.blackhole_connection(ids[0], true);  // the next connection gets through
    auto first = client.with_timeout(200ms).get("k", use_awaitable);
    EXPECT_EQ(co_await failure_of(std::move(first)), errc::timeout);
    const auto start = Clock::now();
    auto value = co_await client.with_timeout(8s).get("k", use_awaitable);
    EXPECT_EQ(value, "v");
    EXPECT_LT(Clock::now() - start, 6s) << "sent on the new connection, not behind the old one";
    EXPECT_EQ(client.stats().reconnects, 1u);
    co_await client.disconnect(use_awaitable);
  });
}

// Issue 9, case 3: disconnect() waited for replies to requests long given up, forever.
TEST(OwedReplies, DisconnectDoesNotWaitForOwedReplies) {
  Proxied proxied;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxied.settings(1);
    settings.abandoned_reply_timeout = 30s;
    settings.disconnect_timeout = 30s;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    proxied.proxy.blackhole(true);
    auto ping = client.with_timeout(200ms).ping(use_awaitable);
    EXPECT_EQ(co_await failure_of(std::move(ping)), errc::timeout);
    const auto start = Clock::now();
    co_await client.disconnect(use_awaitable);
    EXPECT_LT(Clock::now() - start, 2s);
  });
}

// A request still live on a silent server holds disconnect() for disconnect_timeout at most;
// then it fails with shutting_down.
TEST(OwedReplies, DisconnectCompletesWithinItsBound) {
  Proxied proxied;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxied.settings(1);
    settings.disconnect_timeout = 500ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    proxied.proxy.blackhole(true);
    std::exception_ptr outcome;
    bool done = false;
    client.with_timeout(30s).get("k", [&](std::exception_ptr e, std::optional<std::string>) {
      outcome = e;
      done = true;
    });
    EXPECT_EQ(client.stats().pending_requests, 1u);
    const auto start = Clock::now();
    co_await client.disconnect(use_awaitable);
    EXPECT_LT(Clock::now() - start, 5s);
    CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
    EXPECT_EQ(test::code_of(outcome), errc::shutting_down);
  });
}

// A lease given back with a request in flight is closed, not pooled; the request still gets
// its reply.
TEST(OwedReplies, ALeaseReleasedMidRequestIsClosedNotPooled) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    std::int64_t first_id = 0;
    Reply popped;
    bool done = false;
    {
      Lease lease = co_await client.lease(use_awaitable);
      first_id = co_await lease.command<std::int64_t>("CLIENT", "ID", use_awaitable);
      lease.with_timeout(10s).command<Reply>("BLPOP", "jobs", 0,
                                             [&](std::exception_ptr e, Reply r) {
                                               EXPECT_FALSE(e) << error_message_of(e);
                                               popped = std::move(r);
                                               done = true;
                                             });
      CO_ASSERT_TRUE(co_await eventually([&] { return blocked_on_the_server(server, "blpop"); }));
    }
    Lease next = co_await client.lease(use_awaitable);
    EXPECT_NE(co_await next.command<std::int64_t>("CLIENT", "ID", use_awaitable), first_id);
    co_await client.command<std::int64_t>("RPUSH", "jobs", "x", use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
    EXPECT_EQ(popped, Reply::array({Reply::bulk_string("jobs"), Reply::bulk_string("x")}));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
