// Connections that break: resets, a server restart, refused reconnects, a connection cut
// mid-reply. The guarantee: requests still waiting are sent after the reconnect, requests
// already written fail with connection_lost (or are sent again when marked retry_on_reconnect),
// and no reply ever reaches the wrong request.
#include <gtest/gtest.h>

#include <map>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::failure_of;
using test::FaultProxy;
using test::run_async;
using test::sleep_for;
using test::Tally;
using test::use_awaitable;
using test::wire_size;
namespace asio = boost::asio;
using Direction = FaultProxy::Direction;
using Refuse = FaultProxy::Refuse;

// Through the proxy, reconnecting fast, no health check (these tests break connections
// themselves).
RedisSettings through(const FaultProxy& proxy, const test::RedisServer& server,
                      std::size_t connections = 1) {
  RedisSettings settings = proxy.settings(server.settings());
  settings.max_connections = connections;
  settings.reconnect_min_delay = 10ms;
  settings.reconnect_max_delay = 50ms;
  settings.health_check_interval = 0ms;
  return settings;
}

std::string payload(std::string_view tag, int i) {
  return std::string(tag) + "-" + std::to_string(i);
}

TEST(FaultsReset, WrittenRequestsFailAndWaitingOnesAreSentAfterTheReconnect) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server));
    co_await client.connect(use_awaitable);
    Tally written, waiting;
    proxy.blackhole(true);  // requests go out; no reply comes back
    std::size_t bytes = 0;
    for (int i = 0; i < 20; ++i) {
      test::echo(client, payload("written", i), written);
      bytes += wire_size("ECHO", payload("written", i));
    }
    // All written: held by the blackhole on their way to the server.
    CO_ASSERT_TRUE(
        co_await eventually([&] { return proxy.bytes_held(Direction::to_server) >= bytes; }))
    EXPECT_EQ(written.done, 0);
    proxy.refuse(Refuse::not_listening);
    proxy.reset_all();
    CO_ASSERT_TRUE(co_await eventually([&] { return written.done == 20; }))
    EXPECT_EQ(written.lost, 20) << "on the wire when the connection broke";

    for (int i = 0; i < 20; ++i) test::echo(client, payload("waiting", i), waiting);
    // The outage under test, not a wait: reconnects are refused for 300 ms, and the requests
    // must still be waiting through them.
    co_await sleep_for(300ms);
    EXPECT_EQ(waiting.done, 0) << "waiting requests stay queued through the outage";
    EXPECT_EQ(client.stats().connected, 0u);
    proxy.clear();
    CO_ASSERT_TRUE(co_await eventually([&] { return waiting.done == 20; }))
    EXPECT_EQ(waiting.ok, 20);
    EXPECT_EQ(waiting.wrong, 0);
    EXPECT_GE(client.stats().reconnects, 1u);
  });
}

TEST(FaultsReset, RetryOnReconnectResendsOnlyTheMarkedRequests) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server));
    co_await client.connect(use_awaitable);
    for (int i = 0; i < 10; ++i) {
      const std::string key = payload("k", i), value = payload("v", i);
      co_await client.set(key, value, use_awaitable);
    }
    // Only the open connection stalls; the one that replaces it is healthy.
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    const Commands retrying = client.with({.retry_on_reconnect = true});
    Tally retried, plain, pipelined;
    std::size_t bytes = 0;
    for (int i = 0; i < 10; ++i) {
      bytes += wire_size("GET", payload("k", i)) + wire_size("ECHO", payload("plain", i));
      retrying.get(payload("k", i), [&, expected = payload("v", i)](
                                        std::exception_ptr e, std::optional<std::string> value) {
        retried.record(e, value == expected);
      });
      test::echo(client, payload("plain", i), plain);
    }
    Pipeline pipeline;
    for (int i = 0; i < 5; ++i) pipeline.add("GET", payload("k", i));
    retrying.execute(pipeline, [&](std::exception_ptr e, std::vector<Reply> replies) {
      bool right = replies.size() == 5;
      for (std::size_t i = 0; right && i < replies.size(); ++i) {
        right = replies[i].is_string() && replies[i].str() == payload("v", static_cast<int>(i));
      }
      pipelined.record(e, right);
    });
    bytes += pipeline.payload().size();
    // All written: held on the stalled connection, so that the reset finds them on the wire.
    CO_ASSERT_TRUE(
        co_await eventually([&] { return proxy.bytes_held(Direction::to_server) >= bytes; }))
    EXPECT_EQ(retried.done + plain.done + pipelined.done, 0);
    proxy.reset_all();
    CO_ASSERT_TRUE(co_await eventually(
        [&] { return retried.done == 10 && plain.done == 10 && pipelined.done == 1; }))
    EXPECT_EQ(retried.ok, 10) << "sent again after the reconnect";
    EXPECT_EQ(pipelined.ok, 1);
    EXPECT_EQ(plain.lost, 10) << "not marked: they may have run, so they fail";
    EXPECT_EQ(retried.wrong + plain.wrong + pipelined.wrong, 0);
  });
}

TEST(FaultsReset, ServerRestartBehindTheProxy) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server, 2));
    co_await client.connect(use_awaitable);
    constexpr int batches = 24, per_batch = 50;
    std::vector<std::unique_ptr<Tally>> tallies;
    const auto all_done = [&] {
      for (auto& t : tallies) {
        if (t->done != per_batch) return false;
      }
      return true;
    };
    for (int b = 0; b < batches; ++b) {
      if (b == 8) {
        // Every batch so far answered: what the kill finds on the wire is batch 8.
        CO_ASSERT_TRUE(co_await eventually(all_done))
        server.stop();
      }
      if (b == 12) {
        // Both connections seen dead: from batch 12 on nothing goes out on one of them.
        CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
        server.start();
      }
      tallies.push_back(std::make_unique<Tally>());
      for (int i = 0; i < per_batch; ++i) {
        test::echo(client, payload("b" + std::to_string(b), i), *tallies.back());
      }
      // Pacing, not a wait: a stream of batches rather than one burst, so that the outage
      // and the reconnects happen while requests keep coming.
      co_await sleep_for(20ms);
    }
    CO_ASSERT_TRUE(co_await eventually(all_done))
    int lost = 0;
    for (int b = 0; b < batches; ++b) {
      const Tally& t = *tallies[static_cast<std::size_t>(b)];
      EXPECT_EQ(t.wrong, 0) << "batch " << b;
      EXPECT_EQ(t.other + t.timed_out, 0) << "batch " << b;
      if (b < 8 || b >= 12) EXPECT_EQ(t.ok, per_batch) << "batch " << b;
      lost += t.lost;
    }
    EXPECT_GT(lost, 0) << "some requests were on the wire when the server died";
    EXPECT_GE(client.stats().reconnects, 1u);
  });
}

TEST(FaultsReset, RefusedReconnectsKeepRequestsWaitingUntilTheirTimeout) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server));
    co_await client.connect(use_awaitable);
    const Commands quick = client.with_timeout(200ms);
    for (Refuse mode : {Refuse::not_listening, Refuse::reset_on_accept}) {
      SCOPED_TRACE(mode == Refuse::not_listening ? "not listening" : "reset on accept");
      proxy.refuse(mode);
      proxy.reset_all();
      CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
      Tally waiting;
      for (int i = 0; i < 10; ++i) test::echo(client, payload("refused", i), waiting);
      // Queued, not failed: it fails at its own timeout, not at the first refusal.
      const auto start = std::chrono::steady_clock::now();
      EXPECT_EQ(co_await failure_of(quick.ping(use_awaitable)), errc::timeout);
      EXPECT_GE(std::chrono::steady_clock::now() - start, 190ms);
      // The outage goes on, not a wait: 200 ms more of refused reconnects, and the requests
      // (5 s timeout) must still be waiting.
      co_await sleep_for(200ms);
      EXPECT_EQ(waiting.done, 0);
      proxy.refuse(Refuse::no);
      CO_ASSERT_TRUE(co_await eventually([&] { return waiting.done == 10; }))
      EXPECT_EQ(waiting.ok, 10);
    }
    EXPECT_GE(proxy.resets(), 3u) << "reset_on_accept refused at least one reconnect";
  });
}

TEST(FaultsReset, CutAtEveryByteOfAReplyFailsThatRequestOnly) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server));
    co_await client.connect(use_awaitable);
    co_await client.set("cut:k", "value", use_awaitable);
    Pipeline pipeline;
    pipeline.add("ECHO", "alpha").add("INCR", "cut:n").add("MGET", "cut:none", "cut:k");
    pipeline.add("HGETALL", "cut:none").add("GET", "cut:k");
    // The proxy counts bytes before it writes them: a reply the client has is counted.
    const auto before = proxy.bytes_forwarded(Direction::to_client);
    co_await client.execute(pipeline, use_awaitable);
    const auto reply_size = proxy.bytes_forwarded(Direction::to_client) - before;
    CO_ASSERT_TRUE(reply_size > 40)
    for (std::size_t cut = 0; cut < reply_size; ++cut) {
      SCOPED_TRACE("cut after " + std::to_string(cut) + " bytes");
      proxy.drop_after(cut);
      EXPECT_EQ(co_await failure_of(client.execute(pipeline, use_awaitable)),
                errc::connection_lost);
      proxy.clear_drop();
      // The next request gets its own reply, on the next connection.
      const std::string mine = "after-cut-" + std::to_string(cut);
      EXPECT_EQ(co_await client.command<std::string>("ECHO", mine, use_awaitable), mine);
    }
    EXPECT_GE(client.stats().reconnects, reply_size);
  });
}

TEST(FaultsReset, CutInsideALargeValue) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), through(proxy, server));
    co_await client.connect(use_awaitable);
    std::string big(512 * 1024, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 % 251);
    co_await client.set("big", big, use_awaitable);
    for (std::size_t cut : {1u, 1000u, 65536u, 300000u, 524290u}) {
      SCOPED_TRACE("cut after " + std::to_string(cut) + " bytes");
      proxy.drop_after(cut);
      EXPECT_EQ(co_await failure_of(client.get("big", use_awaitable)), errc::connection_lost);
      proxy.clear_drop();
      EXPECT_EQ(co_await client.get("big", use_awaitable), std::optional<std::string>(big));
    }
  });
}

}  // namespace
}  // namespace asyncredis
