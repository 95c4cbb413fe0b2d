// Connecting, authenticating, timeouts, cancellation, losing and regaining the server,
// health checks and graceful disconnect, against real redis-server processes.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <set>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/ip/tcp.hpp>

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
using test::run_async;
using test::sleep_for;
using test::use_awaitable;
using test::wire_size;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Direction = test::FaultProxy::Direction;

template <class T>
bool ready(std::future<T>& future) {
  return future.wait_for(0s) == std::future_status::ready;
}

TEST(Connection, OperationsBeforeConnectFailNotConnected) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), RedisSettings{});
    EXPECT_EQ(co_await failure_of(client.get("k", use_awaitable)), errc::not_connected);
  });
}

TEST(Connection, RefusedConnectFailsAtOnce) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings;
    settings.host = "127.0.0.1";
    settings.port = test::free_port();  // nothing listens there
    settings.connect_timeout = 5s;
    RedisClient client(io.get_executor(), settings);
    const auto start = Clock::now();
    try {
      co_await client.connect(use_awaitable);
      ADD_FAILURE() << "connected to a closed port";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::not_connected));
      EXPECT_NE(e.message().find(std::to_string(settings.port)), std::string::npos) << e.what();
    }
    EXPECT_LT(Clock::now() - start, 2s);
    EXPECT_EQ(co_await failure_of(client.get("k", use_awaitable)), errc::not_connected);
  });
}

TEST(Connection, SilentServerMakesConnectTimeOut) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    // Accepts connections and never answers.
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket accepted(io);
    silent.async_accept(accepted, [](boost::system::error_code) {});
    RedisSettings settings;
    settings.host = "127.0.0.1";
    settings.port = silent.local_endpoint().port();
    settings.connect_timeout = 300ms;
    RedisClient client(io.get_executor(), settings);
    const auto start = Clock::now();
    EXPECT_EQ(co_await failure_of(client.connect(use_awaitable)), errc::timeout);
    const auto took = Clock::now() - start;
    EXPECT_GE(took, 250ms);
    EXPECT_LT(took, 2s);
  });
}

TEST(Connection, WrongOrMissingPasswordIsAuthFailed) {
  test::RedisServer server({.password = "right"});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings wrong = server.settings();
    wrong.password = "wrong";
    RedisClient a(io.get_executor(), wrong);
    try {
      co_await a.connect(use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::auth_failed));
      EXPECT_NE(e.message().find("WRONGPASS"), std::string::npos) << e.message();
      EXPECT_EQ(e.message().find("wrong"), std::string::npos) << "the password is not echoed";
    }
    RedisSettings none = server.settings();
    none.password.reset();
    none.cache_db = 1;  // SELECT is refused without AUTH
    RedisClient b(io.get_executor(), none);
    EXPECT_EQ(co_await failure_of(b.connect(use_awaitable)), errc::auth_failed);
    RedisClient good(io.get_executor(), server.settings());
    co_await good.connect(use_awaitable);
    EXPECT_EQ(co_await good.ping(use_awaitable), "PONG");
  });
}

TEST(Connection, AclUsers) {
  test::RedisServer server({.acl_users = {"user default on nopass ~* &* +@all",
                                          "user alice on >wonderland ~cache:* +@all -flushall"}});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings alice = server.settings();
    alice.username = "alice";
    alice.password = "wonderland";
    RedisClient client(io.get_executor(), alice);
    co_await client.connect(use_awaitable);
    EXPECT_EQ(co_await client.command<std::string>("ACL", "WHOAMI", use_awaitable), "alice");
    EXPECT_TRUE(co_await client.set("cache:x", 1, use_awaitable));
    try {  // a key outside alice's pattern: NOPERM as a server error, connection kept
      co_await client.set("other", 1, use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error));
      EXPECT_TRUE(e.message().starts_with("NOPERM")) << e.message();
    }
    EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");

    RedisSettings stranger = alice;
    stranger.username = "bob";
    RedisClient denied(io.get_executor(), stranger);
    EXPECT_EQ(co_await failure_of(denied.connect(use_awaitable)), errc::auth_failed);
  });
}

TEST(Connection, SelectsTheDatabaseAndNamesItself) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.cache_db = 5;
    settings.client_name = "asyncredis-test";
    RedisClient by_default(io.get_executor(), settings);
    EXPECT_EQ(by_default.database(), 5);
    co_await by_default.connect(use_awaitable);
    co_await by_default.set("where", "five", use_awaitable);
    EXPECT_EQ(co_await by_default.command<std::string>("CLIENT", "GETNAME", use_awaitable),
              "asyncredis-test");
    RedisClient explicit_zero(io.get_executor(), settings, 0);  // stays 0
    EXPECT_EQ(explicit_zero.database(), 0);
    co_await explicit_zero.connect(use_awaitable);
    co_await explicit_zero.set("where", "zero", use_awaitable);
    EXPECT_EQ(server.cli({"-n", "5", "GET", "where"}), "five");
    EXPECT_EQ(server.cli({"-n", "0", "GET", "where"}), "zero");
  });
}

TEST(Connection, UnixSocket) {
  test::RedisServer server({.unix_socket = true});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.unix_socket = server.unix_socket_path();
    settings.host = "invalid.invalid";  // proves the socket path is what is used
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("via", "unix", use_awaitable);
    EXPECT_EQ(server.cli({"GET", "via"}), "unix");
  });
}

TEST(Connection, CommandTimeoutDropsTheLateReply) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.health_check_interval = 0ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("a", "A", use_awaitable);
    co_await client.set("b", "B", use_awaitable);
    server.suspend();
    const auto start = Clock::now();
    EXPECT_EQ(co_await failure_of(client.with_timeout(200ms).get("a", use_awaitable)),
              errc::timeout);
    EXPECT_LT(Clock::now() - start, 1s);
    server.resume();
    // The reply to the timed-out GET a arrives now; it must not be taken for GET b's.
    EXPECT_EQ(co_await client.get("b", use_awaitable), std::optional<std::string>("B"));
    EXPECT_EQ(co_await client.get("a", use_awaitable), std::optional<std::string>("A"));
  });
}

TEST(Connection, CancellationEndsTheOperation) {
  test::RedisServer server;
  test::FaultProxy proxy(server.port());  // transparent: it shows when the GET has gone out
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxy.settings(server.settings());
    settings.max_connections = 1;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.suspend();
    const auto sent_before = proxy.bytes_forwarded(Direction::to_server);
    asio::cancellation_signal signal;
    std::promise<std::exception_ptr> outcome;
    client.get("k", asio::bind_cancellation_slot(
                        signal.slot(), [&](std::exception_ptr e, std::optional<std::string>) {
                          outcome.set_value(e);
                        }));
    // Cancelled once it is on the wire, so that its late reply must be dropped (the PING below).
    CO_ASSERT_TRUE(co_await eventually([&] {
      return proxy.bytes_forwarded(Direction::to_server) >= sent_before + wire_size("GET", "k");
    }))
    signal.emit(asio::cancellation_type::terminal);
    auto future = outcome.get_future();
    // Had the cancellation been ignored, the GET would end at its 5 s timeout: errc::timeout.
    CO_ASSERT_TRUE(co_await eventually([&] { return ready(future); }))
    EXPECT_EQ(code_of(future.get()), errc::cancelled);
    server.resume();
    EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");
  });
}

TEST(Connection, ServerKilledMidLoadFailsOnlyWrittenRequestsAndRecovers) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 2;
    settings.reconnect_min_delay = 20ms;
    settings.reconnect_max_delay = 200ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    int ok = 0, lost = 0, other = 0, done = 0, ok_after_restart = 0;
    bool restarted = false;
    constexpr int batches = 20, per_batch = 100, total = batches * per_batch;
    for (int b = 0; b < batches; ++b) {
      if (b == 8) {
        // Everything sent so far is answered: what the kill finds on the wire is batch 8.
        CO_ASSERT_TRUE(co_await eventually([&] { return done == b * per_batch; }))
        server.stop();
      }
      if (b == 12) {
        server.start();
        restarted = true;
      }
      for (int i = 0; i < per_batch; ++i) {
        client.incr("counter",
                    [&, sent_after_restart = restarted](std::exception_ptr e, std::int64_t) {
                      if (!e) {
                        ++ok;
                        if (sent_after_restart) ++ok_after_restart;
                      } else if (code_of(e) == errc::connection_lost) {
                        ++lost;
                      } else {
                        ++other;
                        ADD_FAILURE() << error_message_of(e);
                      }
                      ++done;
                    });
      }
      if (b == 8) {
        // Both connections are seen dead: batches 9 to 11 wait in the queue for the restart.
        CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
      }
      // Pacing, not a wait: a stream of batches rather than one burst, so that after the
      // restart some go out while the client reconnects and some on the new connections.
      co_await sleep_for(20ms);
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return done == total; }))
    EXPECT_EQ(ok + lost + other, total) << "every operation completes exactly once";
    EXPECT_EQ(other, 0) << "only connection_lost, for requests that were on the wire";
    EXPECT_GT(lost, 0);
    EXPECT_LT(lost, per_batch * 2) << "only what was on the wire when the server died";
    EXPECT_EQ(ok_after_restart, per_batch * (batches - 12));
    EXPECT_GE(client.stats().reconnects, 1u);
    // Requests queued during the outage went out after the reconnect, each applied once.
    auto counted = co_await client.get("counter", use_awaitable);
    CO_ASSERT_TRUE(counted)
    EXPECT_GE(std::stoi(*counted), ok_after_restart);
    EXPECT_LE(std::stoi(*counted), ok);
  });
}

TEST(Connection, RequestsWaitThroughAnOutage) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.reconnect_min_delay = 20ms;
    settings.reconnect_max_delay = 100ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.stop();
    // Seen dead: the GET below waits in the queue instead of going out on the dead socket.
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
    std::promise<std::optional<std::string>> got;
    client.with_timeout(10s).get("k", [&](std::exception_ptr e, std::optional<std::string> v) {
      EXPECT_FALSE(e) << error_message_of(e);
      got.set_value(v);
    });
    // The outage under test, not a wait: the server stays down for a while, reconnects are
    // refused, and the GET must still be waiting when it comes back.
    co_await sleep_for(300ms);
    server.start();
    server.cli({"SET", "k", "back"});
    auto future = got.get_future();
    CO_ASSERT_TRUE(co_await eventually([&] { return ready(future); }))
    EXPECT_EQ(future.get(), std::optional<std::string>("back"));
  });
}

TEST(Connection, DownServerFailsOperationsWithinTheirTimeout) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    server.stop();
    const auto start = Clock::now();
    auto failure = co_await failure_of(client.with_timeout(300ms).get("k", use_awaitable));
    EXPECT_TRUE(failure == errc::timeout || failure == errc::connection_lost);
    EXPECT_LT(Clock::now() - start, 1s);
  });
}

TEST(Connection, HealthCheckReplacesAStalledConnection) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.health_check_interval = 100ms;
    settings.command_timeout = 200ms;
    settings.connect_timeout = 200ms;
    settings.reconnect_min_delay = 20ms;
    settings.reconnect_max_delay = 50ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    EXPECT_EQ(client.stats().connected, 1u);
    server.suspend();  // no request of ours is pending: only the health check can notice
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
    server.resume();
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 1; }))
    EXPECT_GE(client.stats().reconnects, 1u);
    EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");
  });
}

TEST(Connection, DisconnectCompletesEveryOperationInFlight) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    int succeeded = 0, completed = 0;
    for (int i = 0; i < 500; ++i) {
      client.incr("n", [&](std::exception_ptr e, std::int64_t) {
        ++completed;
        if (!e) ++succeeded;
      });
    }
    co_await client.disconnect(use_awaitable);
    EXPECT_EQ(completed, 500);
    EXPECT_EQ(succeeded, 500);
    EXPECT_EQ(server.cli({"GET", "n"}), "500");
    EXPECT_EQ(co_await failure_of(client.get("n", use_awaitable)), errc::not_connected);
    co_await client.connect(use_awaitable);  // and it can come back
    EXPECT_EQ(co_await client.get("n", use_awaitable), std::optional<std::string>("500"));
  });
}

TEST(Connection, DestroyingTheClientCompletesPendingOperations) {
  test::RedisServer server;
  test::FaultProxy proxy(server.port());  // transparent: it shows when the GETs have gone out
  int completed = 0;
  const bool drained = run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    {
      RedisClient client(io.get_executor(), proxy.settings(server.settings()));
      co_await client.connect(use_awaitable);
      // Every handshake done, so that only the GETs go out from here on.
      CO_ASSERT_TRUE(co_await eventually(
          [&] { return client.stats().connected == client.stats().connections; }))
      server.suspend();
      const auto sent_before = proxy.bytes_forwarded(Direction::to_server);
      for (int i = 0; i < 10; ++i) {
        client.get("k", [&](std::exception_ptr e, std::optional<std::string>) {
          EXPECT_EQ(code_of(e), errc::shutting_down);
          ++completed;
        });
      }
      // On the wire to the stalled server: no reply will come before the client is gone.
      CO_ASSERT_TRUE(co_await eventually([&] {
        return proxy.bytes_forwarded(Direction::to_server) >=
               sent_before + 10 * wire_size("GET", "k");
      }))
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return completed >= 10; }))
    server.resume();
  });
  // Counted once everything the client left behind has run: exactly once each.
  EXPECT_TRUE(drained);
  EXPECT_EQ(completed, 10);
}

TEST(Connection, PoolSpreadsLoadOverItsConnections) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 4;
    settings.client_name = "pooled";
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 4; }))
    std::set<std::string> ids;
    int done = 0;
    for (int i = 0; i < 64; ++i) {
      client.command<std::int64_t>("CLIENT", "ID", [&](std::exception_ptr e, std::int64_t id) {
        EXPECT_FALSE(e);
        ids.insert(std::to_string(id));
        ++done;
      });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return done == 64; }))
    EXPECT_EQ(ids.size(), 4u) << "requests went to every connection";
  });
}

TEST(Connection, LeasesAreBoundedAndWait) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.max_connections = 1;
    settings.connect_timeout = 300ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    Lease first = co_await client.lease(use_awaitable);
    EXPECT_EQ(co_await failure_of(client.lease(use_awaitable)), errc::timeout);
    // A blocking command on the lease does not hold up the shared connection.
    std::promise<std::exception_ptr> blocked;
    first.with_timeout(5s).command<std::optional<std::vector<std::string>>>(
        "BLPOP", "queue", 2, [&](std::exception_ptr e, std::optional<std::vector<std::string>> v) {
          EXPECT_TRUE(v.has_value());
          blocked.set_value(e);
        });
    EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");
    co_await client.command<void>("RPUSH", "queue", "job", use_awaitable);
    // The BLPOP's reply: waited for here (get() would block the thread that must deliver it).
    auto unblocked = blocked.get_future();
    CO_ASSERT_TRUE(co_await eventually([&] { return ready(unblocked); }))
    EXPECT_FALSE(unblocked.get());
    first.release();
    Lease second = co_await client.lease(use_awaitable);
    EXPECT_TRUE(second.valid());
  });
}

}  // namespace
}  // namespace asyncredis
