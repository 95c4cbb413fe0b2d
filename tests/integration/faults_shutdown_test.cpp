// Shutdown with work in flight: every operation completes (with a result or an error) exactly
// once, whether the client is destroyed or disconnect()ed, on one thread or several, while its
// connections are stalled, down, reconnecting or being reset. Also run under ThreadSanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <future>
#include <memory>
#include <random>
#include <thread>

#include <boost/asio/use_future.hpp>

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
using test::use_awaitable;
using test::wait_until;
using test::wire_size;
namespace asio = boost::asio;
using Direction = FaultProxy::Direction;
using Refuse = FaultProxy::Refuse;

// Counts each operation's completions, and which error codes ended them.
class Ledger {
 public:
  explicit Ledger(std::size_t operations) : calls_(operations) {}

  // The completion handler of operation `i`.
  auto handler(std::size_t i) {
    return [this, i](std::exception_ptr e, auto&&...) {
      const errc code = code_of(e);
      ++codes_[static_cast<std::size_t>(code) < kCodes ? static_cast<std::size_t>(code) : 0];
      ++calls_[i];
      ++total_;
    };
  }

  std::size_t total() const { return total_.load(); }
  int count(errc code) const { return codes_[static_cast<std::size_t>(code)].load(); }
  // Of the first `issued` operations (default: all), those completed other than exactly once.
  std::size_t not_exactly_once(std::size_t issued = SIZE_MAX) const {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < std::min(issued, calls_.size()); ++i) {
      bad += calls_[i].load() != 1 ? 1 : 0;
    }
    return bad;
  }

 private:
  static constexpr std::size_t kCodes = 32;
  std::vector<std::atomic<int>> calls_;
  std::array<std::atomic<int>, kCodes> codes_{};
  std::atomic<std::size_t> total_{0};
};

RedisSettings through(const FaultProxy& proxy, const test::RedisServer& server,
                      std::size_t connections) {
  RedisSettings settings = proxy.settings(server.settings());
  settings.max_connections = connections;
  settings.health_check_interval = 0ms;
  settings.reconnect_min_delay = 5ms;
  settings.reconnect_max_delay = 20ms;
  return settings;
}

TEST(FaultsShutdown, DestroyedWithRequestsWrittenWaitingAndTimedOut) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  for (const bool down : {false, true}) {
    SCOPED_TRACE(down ? "connection down: requests waiting" : "stalled: requests written");
    proxy.clear();
    constexpr std::size_t n = 300;
    Ledger ledger(n);
    const bool drained = run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      {
        RedisClient client(io.get_executor(), through(proxy, server, 1));
        co_await client.connect(use_awaitable);
        if (down) {
          proxy.refuse(Refuse::not_listening);
          proxy.reset_all();
          CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
        } else {
          proxy.blackhole(true);
        }
        const Commands quick = client.with_timeout(30ms);
        std::size_t bytes = 0;
        for (std::size_t i = 0; i < n; ++i) {
          if (i % 10 == 0) {
            quick.get("k", ledger.handler(i));  // times out before the client goes
          } else if (i % 2 == 0) {
            client.incr("n", ledger.handler(i));
          } else {
            client.get("k", ledger.handler(i));
          }
          bytes += i % 2 == 0 && i % 10 != 0 ? wire_size("INCR", "n") : wire_size("GET", "k");
        }
        if (!down) {
          // All written: held by the blackhole on their way to the server.
          CO_ASSERT_TRUE(
              co_await eventually([&] { return proxy.bytes_held(Direction::to_server) >= bytes; }))
        }
        CO_ASSERT_TRUE(co_await eventually([&] { return ledger.total() >= n / 10; }))
        EXPECT_EQ(ledger.total(), n / 10) << "only the short timeouts so far";
      }  // destroyed with 270 operations in flight
      CO_ASSERT_TRUE(co_await eventually([&] { return ledger.total() >= n; }, 2s))
    });
    // Read once everything the client left behind has run: a second completion would show.
    EXPECT_TRUE(drained);
    EXPECT_EQ(ledger.total(), n);
    EXPECT_EQ(ledger.not_exactly_once(), 0u);
    EXPECT_EQ(ledger.count(errc::timeout), static_cast<int>(n / 10));
    EXPECT_EQ(ledger.count(errc::shutting_down), static_cast<int>(n - n / 10));
  }
}

TEST(FaultsShutdown, DisconnectRacingResetsCompletesEverythingOnce) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  constexpr std::size_t n = 1500;
  Ledger ledger(n);
  std::atomic<bool> resetting{false};
  std::jthread resetter([&](std::stop_token stop) {
    while (!stop.stop_requested()) {
      std::this_thread::sleep_for(15ms);  // the fault's rhythm, not a wait
      if (resetting) proxy.reset_all();
    }
  });
  const bool drained = run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = through(proxy, server, 2);
    settings.command_timeout = 1s;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    resetting = true;
    std::promise<std::exception_ptr> disconnected;
    for (std::size_t i = 0; i < n; ++i) {
      client.incr("race", ledger.handler(i));
      if (i == n / 2) {
        client.disconnect([&](std::exception_ptr e) { disconnected.set_value(e); });
      }
      // Pacing, not a wait: the io_context writes and reads between groups, so that the
      // resets and the disconnect find requests at every stage.
      if (i % 50 == 0) co_await sleep_for(2ms);
    }
    auto future = disconnected.get_future();
    CO_ASSERT_TRUE(
        co_await eventually([&] { return future.wait_for(0s) == std::future_status::ready; }, 5s))
    EXPECT_FALSE(future.get());
    CO_ASSERT_TRUE(co_await eventually([&] { return ledger.total() >= n; }, 2s))
  });
  resetting = false;
  // Read once everything the client left behind has run: a second completion would show.
  EXPECT_TRUE(drained);
  EXPECT_EQ(ledger.total(), n);
  EXPECT_EQ(ledger.not_exactly_once(), 0u);
  const int ok = ledger.count(errc{}), lost = ledger.count(errc::connection_lost),
            timed_out = ledger.count(errc::timeout);
  // Submitted after disconnect() began: shutting_down, or not_connected once it is done.
  const int refused = ledger.count(errc::shutting_down) + ledger.count(errc::not_connected);
  EXPECT_EQ(ok + lost + timed_out + refused, static_cast<int>(n)) << "no other outcome";
  EXPECT_GT(refused, 0);
  // Each success was applied once; a lost or timed-out INCR may or may not have been.
  const std::string stored_text = server.cli({"GET", "race"});  // empty: none was applied
  const int stored = stored_text.empty() ? 0 : std::stoi(stored_text);
  EXPECT_GE(stored, ok);
  EXPECT_LE(stored, ok + lost + timed_out);
}

TEST(FaultsShutdown, ManyThreadsDestroyWithWorkInFlight) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  proxy.set_latency(5ms);  // keeps requests on the wire
  asio::io_context io(2);
  test::IoThreads runners(io, 2);

  constexpr std::size_t capacity = 400000;  // more than two producers submit in the time
  Ledger ledger(capacity);
  std::atomic<std::size_t> next{0}, issued{0};
  std::atomic<int> wrong{0};
  std::size_t in_flight = 0;
  {
    auto client = std::make_unique<RedisClient>(io.get_executor(), through(proxy, server, 3));
    client->connect(asio::use_future).get();
    std::jthread resetter([&](std::stop_token stop) {
      for (int ok_at_last_reset = 0; !stop.stop_requested();) {
        std::this_thread::sleep_for(40ms);  // the fault's rhythm, not a wait
        // And not before a few requests got through since the last reset: on a starved
        // machine, resets every 40 ms alone could let none through.
        wait_until(
            [&] { return stop.stop_requested() || ledger.count(errc{}) >= ok_at_last_reset + 20; });
        ok_at_last_reset = ledger.count(errc{});
        proxy.reset_all();
      }
    });
    std::vector<std::jthread> producers;
    for (int t = 0; t < 2; ++t) {
      producers.emplace_back([&](std::stop_token stop) {
        for (int i = 0; !stop.stop_requested(); ++i) {
          const std::size_t op = next++;
          if (op >= capacity) break;
          const std::string payload = "op" + std::to_string(op);
          auto count = ledger.handler(op);
          client->command<std::string>(
              "ECHO", payload, [&wrong, count, payload](std::exception_ptr e, std::string reply) {
                if (!e && reply != payload) ++wrong;
                count(e);
              });
          ++issued;
          // Pacing, not a wait: keeps two producers from burying the io threads in requests.
          if (i % 20 == 0) std::this_thread::sleep_for(1ms);
        }
      });
    }
    // Some work done first, so the test is about a working client going away.
    EXPECT_TRUE(wait_until([&] { return ledger.count(errc{}) >= 200; }));
    producers.clear();  // stopped and joined
    in_flight = issued - ledger.total();
    client.reset();  // destroyed with requests still in flight
  }
  EXPECT_TRUE(wait_until([&] { return ledger.total() >= issued; }));
  // Once the io threads have run out of work, every completion there will be has happened.
  EXPECT_TRUE(runners.drain());
  EXPECT_GE(ledger.count(errc{}), 200);
  EXPECT_GT(in_flight, 0u) << "nothing was in flight when the client went";
  EXPECT_EQ(ledger.total(), issued.load());
  EXPECT_EQ(ledger.not_exactly_once(issued), 0u);
  EXPECT_EQ(wrong, 0);
}

TEST(FaultsShutdown, DestroyedWhileReconnecting) {
  // Connections cycling through connect, accept and reset every millisecond or so; the
  // client destroyed at random points of that cycle, from another thread than its io_context's.
  test::RedisServer server;
  FaultProxy proxy(server.port());
  asio::io_context io(2);
  test::IoThreads runners(io, 2);
  std::mt19937 random(12345);
  constexpr int rounds = 40, per_round = 20;
  Ledger ledger(rounds * per_round);
  for (int round = 0; round < rounds; ++round) {
    proxy.clear();
    RedisSettings settings = through(proxy, server, 4);
    settings.reconnect_min_delay = 1ms;
    settings.reconnect_max_delay = 2ms;
    auto client = std::make_unique<RedisClient>(io.get_executor(), settings);
    client->connect(asio::use_future).get();
    proxy.refuse(Refuse::reset_on_accept);
    proxy.reset_all();
    for (int i = 0; i < per_round; ++i) {
      client->get("k", ledger.handler(static_cast<std::size_t>(round * per_round + i)));
    }
    // A random point of the cycle, not a wait: the interleaving is what is under test.
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 15000));
    client.reset();
  }
  EXPECT_TRUE(wait_until([&] { return ledger.total() >= rounds * per_round; }));
  // Once the io threads have run out of work, every completion there will be has happened.
  EXPECT_TRUE(runners.drain());
  EXPECT_EQ(ledger.total(), static_cast<std::size_t>(rounds * per_round));
  EXPECT_EQ(ledger.not_exactly_once(), 0u);
  EXPECT_GE(proxy.resets(), static_cast<std::size_t>(rounds));
}

TEST(FaultsShutdown, LeaseOutlivingItsClient) {
  test::RedisServer server;
  int calls = 0;
  const bool drained = run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    Lease lease;
    {
      RedisClient client(io.get_executor(), server.settings());
      co_await client.connect(use_awaitable);
      Lease got = co_await client.lease(use_awaitable);
      lease = std::move(got);
    }
    // Whatever the answer, it comes exactly once and touches nothing of the gone client.
    lease.ping([&](std::exception_ptr, std::string) { ++calls; });
    CO_ASSERT_TRUE(co_await eventually([&] { return calls > 0; }, 2s))
  });
  // Read once everything the lease left behind has run: a second call would show.
  EXPECT_TRUE(drained);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace asyncredis
