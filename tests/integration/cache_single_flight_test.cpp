// get_or_set's single flight against a real redis-server: one computation for many callers
// (one thread or many), errors and cancellation release every waiter and never leave a key
// locked.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
using test::run_async;
using test::sleep_for;
using test::use_awaitable;
namespace asio = boost::asio;

class SingleFlight : public test::SharedServerTest {};

// Waits until `count` reaches `target` (or 10 s pass).
asio::awaitable<void> wait_until(const std::atomic<int>& count, int target) {
  for (int i = 0; i < 10'000 && count.load() < target; ++i) co_await sleep_for(1ms);
}

void two_hundred_callers(test::RedisServer& server, bool computation_suspends) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0, finished = 0, right = 0;
    auto compute = [&computations, computation_suspends]() -> asio::awaitable<int> {
      ++computations;
      if (computation_suspends) co_await sleep_for(50ms);
      co_return 42;
    };
    for (int i = 0; i < 200; ++i) {
      cache.get_or_set("cold", 30s, compute, [&](std::exception_ptr e, int value) {
        if (!e && value == 42) ++right;
        ++finished;
      });
    }
    co_await wait_until(finished, 200);
    EXPECT_EQ(finished.load(), 200);
    EXPECT_EQ(right.load(), 200);
    EXPECT_EQ(computations.load(), 1);
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
  asio::io_context io(4);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 4; ++i) runners.emplace_back([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), server_->settings());
    client.connect(asio::use_future).get();
    CacheService cache(client);
    std::atomic<int> computations = 0;
    auto compute = [&computations]() -> asio::awaitable<std::string> {
      ++computations;
      co_await sleep_for(50ms);
      co_return "shared";
    };
    std::vector<std::future<std::string>> results;
    std::mutex results_mutex;
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          auto f = cache.get_or_set("cold", 30s, compute, asio::use_future);
          std::lock_guard lock(results_mutex);
          results.push_back(std::move(f));
        }
      });
    }
    for (auto& c : callers) c.join();
    for (auto& f : results) EXPECT_EQ(f.get(), "shared");
    EXPECT_EQ(computations.load(), 1);
    EXPECT_EQ(cache.stats().misses + cache.stats().hits, 200u);
    client.disconnect(asio::use_future).get();
  }
  work.reset();
  for (auto& r : runners) r.join();
}

TEST_F(SingleFlight, ThrowingComputationCachesNothingAndEveryWaiterSeesTheError) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0, failed = 0, finished = 0;
    auto failing = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_await sleep_for(30ms);
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
    co_await wait_until(finished, 50);
    EXPECT_EQ(failed.load(), 50);
    EXPECT_EQ(computations.load(), 1);
    EXPECT_EQ(co_await client.exists("k", use_awaitable), 0) << "nothing was cached";

    // The key is free again: the next caller computes.
    auto working = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_return 5;
    };
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, working, use_awaitable), 5);
    EXPECT_EQ(computations.load(), 2);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, CancelledComputationReleasesWaitersAndTheKey) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0, waiters_failed = 0, finished = 0;
    auto slow = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_await sleep_for(5s);
      co_return 1;
    };
    std::atomic<bool> leader_cancelled = false;
    auto leader = [&]() -> asio::awaitable<void> {
      asio::steady_timer deadline(io, 150ms);
      auto winner = co_await (cache.get_or_set("k", 30s, slow, use_awaitable) ||
                              deadline.async_wait(use_awaitable));
      leader_cancelled = winner.index() == 1;
    };
    asio::co_spawn(io, leader(), asio::detached);
    co_await sleep_for(30ms);  // the leader is computing
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      cache.get_or_set("k", 30s, slow, [&](std::exception_ptr e, int) {
        if (e) ++waiters_failed;
        ++finished;
      });
    }
    co_await wait_until(finished, 10);
    EXPECT_TRUE(leader_cancelled.load());
    EXPECT_EQ(waiters_failed.load(), 10) << "waiters get the cancellation, not a hang";
    EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
    EXPECT_EQ(computations.load(), 1);
    EXPECT_EQ(co_await client.exists("k", use_awaitable), 0);

    auto quick = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_return 2;
    };
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, quick, use_awaitable), 2)
        << "the key is not left locked";
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, CancelledWaiterLeavesTheOthersAlone) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0;
    auto slow = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_await sleep_for(300ms);
      co_return 7;
    };
    std::optional<int> leader_result;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          leader_result = co_await cache.get_or_set("k", 30s, slow, use_awaitable);
        },
        asio::detached);
    co_await sleep_for(30ms);

    // This waiter gives up after 50 ms; its wait is cancelled, promptly.
    const auto started = std::chrono::steady_clock::now();
    asio::steady_timer deadline(io, 50ms);
    auto winner = co_await (cache.get_or_set("k", 30s, slow, use_awaitable) ||
                            deadline.async_wait(use_awaitable));
    EXPECT_EQ(winner.index(), 1u);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 200ms);

    // Another waiter, and the leader, still get the value.
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, slow, use_awaitable), 7);
    co_await sleep_for(10ms);
    EXPECT_EQ(leader_result, 7);
    EXPECT_EQ(computations.load(), 1);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, CanBeTurnedOff) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0, finished = 0;
    auto compute = [&computations]() -> asio::awaitable<int> {
      ++computations;
      co_await sleep_for(30ms);
      co_return 3;
    };
    GetOrSetOptions options;
    options.single_flight = false;
    for (int i = 0; i < 10; ++i) {
      cache.get_or_set("k", options, compute, [&](std::exception_ptr e, int v) {
        EXPECT_FALSE(e);
        EXPECT_EQ(v, 3);
        ++finished;
      });
    }
    co_await wait_until(finished, 10);
    EXPECT_EQ(computations.load(), 10);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SingleFlight, DifferentKeysDoNotWaitForEachOther) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    std::atomic<int> computations = 0, finished = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      auto compute = [&computations, i]() -> asio::awaitable<int> {
        ++computations;
        co_await sleep_for(100ms);
        co_return i;
      };
      cache.get_or_set("k" + std::to_string(i), 30s, compute, [&, i](std::exception_ptr e, int v) {
        EXPECT_FALSE(e);
        EXPECT_EQ(v, i);
        ++finished;
      });
    }
    co_await wait_until(finished, 20);
    EXPECT_EQ(computations.load(), 20);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "they ran concurrently";
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
