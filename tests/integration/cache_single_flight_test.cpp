// get_or_set's single flight against a real redis-server: one computation for many callers
// (one thread or many), errors for all of them, turned off, per key. Cancellation and the time
// limit: cache_flight_cancel_test.cpp.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "cache_flight_support.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

class SingleFlight : public test::SharedServerTest {};

using test::Gate;
using test::on_four_threads;

void two_hundred_callers(const test::SharedTarget& server, bool computation_suspends) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    Gate gate;
    gate.open = !computation_suspends;
    std::atomic<int> finished = 0, right = 0;
    for (int i = 0; i < 200; ++i) {
      cache.get_or_set("cold", 30s, gate.computation(42), [&](std::exception_ptr e, int value) {
        if (!e && value == 42) ++right;
        ++finished;
      });
    }
    // Held open until every other caller waits for it.
    if (computation_suspends) {
      EXPECT_TRUE(co_await eventually([&] { return cache.stats().waits == 199; }));
      gate.open = true;
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return finished == 200; }));
    EXPECT_EQ(right.load(), 200);
    EXPECT_EQ(gate.started.load(), 1);
    EXPECT_EQ(cache.stats().computations, 1u);
    EXPECT_EQ(co_await client.get("cold", use_awaitable), std::optional<std::string>("42"));
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, TwoHundredCallersOfAColdKeyRunOneComputation) {
  two_hundred_callers(*server_, true);
}

TEST_F(SingleFlight, OneComputationEvenWhenItNeverSuspends) {
  // The computation ends before the other callers' GETs come back: they must find its value
  // (stored, or handed over), not start their own.
  two_hundred_callers(*server_, false);
}

TEST_F(SingleFlight, CallersOnManyThreadsShareOneComputation) {
  on_four_threads(*server_, [&](asio::io_context& io, RedisClient& client) {
    CacheService cache(client);
    Gate gate;
    std::vector<std::future<std::string>> results;
    std::mutex results_mutex;
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          auto f = cache.get_or_set("cold", 30s, gate.computation(std::string("shared")),
                                    asio::use_future);
          std::lock_guard lock(results_mutex);
          results.push_back(std::move(f));
        }
      });
    }
    for (auto& c : callers) c.join();
    EXPECT_TRUE(test::wait_until([&] { return cache.stats().waits == 199; }));
    gate.open = true;
    for (auto& f : results) EXPECT_EQ(f.get(), "shared");
    EXPECT_EQ(gate.started.load(), 1);
    EXPECT_EQ(cache.stats().misses + cache.stats().hits, 200u);
  });
}

TEST_F(SingleFlight, ThrowingComputationCachesNothingAndEveryWaiterSeesTheError) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    Gate gate;
    std::atomic<int> failed = 0, finished = 0;
    auto failing = [&gate]() -> asio::awaitable<int> {
      co_await gate.computation(0)();
      throw std::runtime_error("database down");
    };
    for (int i = 0; i < 50; ++i) {
      cache.get_or_set("k", 30s, failing, [&](std::exception_ptr e, int) {
        try {
          if (e) std::rethrow_exception(e);
        } catch (const std::runtime_error& error) {
          if (std::string(error.what()) == "database down") ++failed;
        }
        ++finished;
      });
    }
    EXPECT_TRUE(co_await eventually([&] { return cache.stats().waits == 49; }));
    gate.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return finished == 50; }));
    EXPECT_EQ(failed.load(), 50);
    EXPECT_EQ(gate.started.load(), 1);
    EXPECT_EQ(co_await client.exists("k", use_awaitable), 0) << "nothing was cached";

    // The key is free again: the next caller computes.
    auto working = []() -> asio::awaitable<int> { co_return 5; };
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, working, use_awaitable), 5);
    EXPECT_EQ(cache.stats().computations, 2u);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, CanBeTurnedOff) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    Gate gate;
    std::atomic<int> finished = 0;
    GetOrSetOptions options;
    options.single_flight = false;
    for (int i = 0; i < 10; ++i) {
      cache.get_or_set("k", options, gate.computation(3), [&](std::exception_ptr e, int v) {
        EXPECT_FALSE(e);
        EXPECT_EQ(v, 3);
        ++finished;
      });
    }
    // Ten computations of one key at once: nobody waits for anybody.
    EXPECT_TRUE(co_await eventually([&] { return gate.started == 10; }));
    EXPECT_EQ(cache.stats().waits, 0u);
    gate.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return finished == 10; }));
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, DifferentKeysDoNotWaitForEachOther) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    Gate gate;
    std::atomic<int> finished = 0;
    for (int i = 0; i < 20; ++i) {
      cache.get_or_set("k" + std::to_string(i), 30s, gate.computation(i),
                       [&, i](std::exception_ptr e, int v) {
                         EXPECT_FALSE(e);
                         EXPECT_EQ(v, i);
                         ++finished;
                       });
    }
    // All twenty computing at once: none waits for another key's.
    EXPECT_TRUE(co_await eventually([&] { return gate.started == 20; }));
    EXPECT_EQ(cache.stats().waits, 0u);
    gate.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return finished == 20; }));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
