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
namespace asio = boost::asio;
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
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
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
        for (std::size_t i = 0; i < n; ++i) {
          if (i % 10 == 0) {
            quick.get("k", ledger.handler(i));  // times out before the client goes
          } else if (i % 2 == 0) {
            client.incr("n", ledger.handler(i));
          } else {
            client.get("k", ledger.handler(i));
          }
        }
        co_await sleep_for(100ms);
        EXPECT_EQ(ledger.total(), n / 10) << "only the short timeouts so far";
      }  // destroyed with 270 operations in flight
      CO_ASSERT_TRUE(co_await eventually([&] { return ledger.total() >= n; }, 2s))
      co_await sleep_for(50ms);  // a second completion would show up now
      EXPECT_EQ(ledger.total(), n);
      EXPECT_EQ(ledger.not_exactly_once(), 0u);
      EXPECT_EQ(ledger.count(errc::timeout), static_cast<int>(n / 10));
      EXPECT_EQ(ledger.count(errc::shutting_down), static_cast<int>(n - n / 10));
    });
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
      std::this_thread::sleep_for(15ms);
      if (resetting) proxy.reset_all();
    }
  });
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
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
      if (i % 50 == 0) co_await sleep_for(2ms);
    }
    auto future = disconnected.get_future();
    CO_ASSERT_TRUE(
        co_await eventually([&] { return future.wait_for(0s) == std::future_status::ready; }, 5s))
    EXPECT_FALSE(future.get());
    CO_ASSERT_TRUE(co_await eventually([&] { return ledger.total() >= n; }, 2s))
    co_await sleep_for(50ms);
    EXPECT_EQ(ledger.total(), n);
    EXPECT_EQ(ledger.not_exactly_once(), 0u);
    const int ok = ledger.count(errc{}), lost = ledger.count(errc::connection_lost),
              timed_out = ledger.count(errc::timeout);
    // Submitted after disconnect() began: shutting_down, or not_connected once it is done.
    const int refused = ledger.count(errc::shutting_down) + ledger.count(errc::not_connected);
    EXPECT_EQ(ok + lost + timed_out + refused, static_cast<int>(n)) << "no other outcome";
    EXPECT_GT(refused, 0);
    resetting = false;
    // Each success was applied once; a lost or timed-out INCR may or may not have been.
    const int stored = std::stoi(server.cli({"GET", "race"}));
    EXPECT_GE(stored, ok);
    EXPECT_LE(stored, ok + lost + timed_out);
  });
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
      while (!stop.stop_requested()) {
        std::this_thread::sleep_for(40ms);
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
          if (i % 20 == 0) std::this_thread::sleep_for(1ms);
        }
      });
    }
    // Some work done first, so the test is about a working client going away.
    const auto started = std::chrono::steady_clock::now();
    while (ledger.count(errc{}) < 200 && std::chrono::steady_clock::now() - started < 10s) {
      std::this_thread::sleep_for(5ms);
    }
    producers.clear();  // stopped and joined
    in_flight = issued - ledger.total();
    client.reset();  // destroyed with requests still in flight
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ledger.total() < issued && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  std::this_thread::sleep_for(50ms);
  runners.stop();
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
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 15000));
    client.reset();
  }
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (ledger.total() < rounds * per_round && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  std::this_thread::sleep_for(50ms);
  runners.stop();
  EXPECT_EQ(ledger.total(), static_cast<std::size_t>(rounds * per_round));
  EXPECT_EQ(ledger.not_exactly_once(), 0u);
  EXPECT_GE(proxy.resets(), static_cast<std::size_t>(rounds));
}

TEST(FaultsShutdown, LeaseOutlivingItsClient) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    Lease lease;
    {
      RedisClient client(io.get_executor(), server.settings());
      co_await client.connect(use_awaitable);
      Lease got = co_await client.lease(use_awaitable);
      lease = std::move(got);
    }
    // Whatever the answer, it comes exactly once and touches nothing of the gone client.
    int calls = 0;
    lease.ping([&](std::exception_ptr, std::string) { ++calls; });
    CO_ASSERT_TRUE(co_await eventually([&] { return calls > 0; }, 2s))
    co_await sleep_for(20ms);
    EXPECT_EQ(calls, 1);
  });
}

}  // namespace
}  // namespace asyncredis
