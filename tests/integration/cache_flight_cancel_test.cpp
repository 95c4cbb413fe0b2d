// Single flight's ends against a real redis-server (see src/cache/single_flight.cpp): a
// waiter's cancellation ends that waiter only; the leader's cancellation hands the flight to a
// waiter; the time limit fails every caller with errc::timeout and frees the key; all of it on
// four threads at once without losing a caller.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

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
using test::code_of;
using test::eventually;
using test::Gate;
using test::is_cancelled;
using test::on_four_threads;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

class FlightCancel : public test::CacheTest {};

// The first caller of "k", computing behind a gate that never opens, cancelled by the test.
struct CancellableLeader {
  Gate gate;
  asio::cancellation_signal signal;
  std::exception_ptr error;
  bool done = false;

  void start(CacheService& cache) {
    cache.get_or_set("k", 30s, gate.computation(1),
                     asio::bind_cancellation_slot(signal.slot(), [this](std::exception_ptr e, int) {
                       error = e;
                       done = true;
                     }));
  }
};

TEST_F(FlightCancel, ManyThreadsCancellingAndTimingOutNeverLoseACaller) {
  // Leaders and waiters give up at random moments, flights hit their time limit, hand-overs
  // happen, on four threads at once: every caller completes, with a value, its own
  // cancellation, or a timeout. (The computations' and deadlines' lengths are the behaviour
  // under test here: they make these events overlap.)
  on_four_threads(*server_, [&](asio::io_context& io, RedisClient& client) {
    CacheOptions options;
    options.flight_timeout = 60ms;
    CacheService cache(client, options);
    std::atomic<int> values = 0, cancelled = 0, timeouts = 0, other = 0;
    // One caller on a strand of its own, as Asio wants of code that cancels an operation on a
    // multi-threaded io_context: the operation, its completion and the cancellation (a timer
    // emitting its signal) all run there.
    auto call = [&](int i, std::promise<void>& done) {
      auto strand = asio::make_strand(io);
      asio::dispatch(strand, [&, i, strand] {
        auto compute = [i]() -> asio::awaitable<int> {
          asio::steady_timer t(co_await asio::this_coro::executor,
                               std::chrono::milliseconds(i % 20));
          co_await t.async_wait(use_awaitable);
          co_return 1;
        };
        auto signal = std::make_shared<asio::cancellation_signal>();
        // Every fifth caller waits as long as it takes (a flight's limit still bounds it).
        auto deadline = std::make_shared<asio::steady_timer>(
            strand, i % 5 == 0 ? 1h : std::chrono::milliseconds((i * 7) % 25));
        deadline->async_wait(asio::bind_executor(strand, [signal](boost::system::error_code ec) {
          if (!ec) signal->emit(asio::cancellation_type::terminal);
        }));
        auto on_done = [&, signal, deadline](std::exception_ptr error, int value) {
          deadline->cancel();
          if (!error) {
            ++(value == 1 ? values : other);
          } else if (code_of(error) == make_error_code(errc::timeout)) {
            ++timeouts;
          } else {
            ++(is_cancelled(error) ? cancelled : other);
          }
          done.set_value();
        };
        cache.get_or_set("k" + std::to_string(i % 3), 30s, compute,
                         asio::bind_cancellation_slot(
                             signal->slot(), asio::bind_executor(strand, std::move(on_done))));
      });
    };
    std::vector<std::promise<void>> promises(400);
    std::vector<std::future<void>> done;
    for (auto& p : promises) done.push_back(p.get_future());
    std::vector<std::thread> callers;
    for (int t = 0; t < 4; ++t) {
      callers.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) call(t * 100 + i, promises[t * 100 + i]);
      });
    }
    for (auto& c : callers) c.join();
    for (auto& f : done) {
      EXPECT_EQ(f.wait_for(30s), std::future_status::ready) << "a caller hangs";
    }
    EXPECT_EQ(values + cancelled + timeouts, 400);
    EXPECT_EQ(other.load(), 0);
    EXPECT_GT(values.load(), 0);
  });
}

TEST_F(FlightCancel, CancelledLeaderHandsTheFlightToAWaiter) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    CancellableLeader leader;
    leader.start(cache);
    CO_ASSERT_TRUE(co_await eventually([&] { return leader.gate.started == 1; }));

    std::atomic<int> waiter_computations = 0, finished = 0, right = 0;
    auto quick = [&waiter_computations]() -> asio::awaitable<int> {
      ++waiter_computations;
      co_return 2;
    };
    for (int i = 0; i < 10; ++i) {
      cache.get_or_set("k", 30s, quick, [&](std::exception_ptr e, int v) {
        if (!e && v == 2) ++right;
        ++finished;
      });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return cache.stats().waits == 10; }));
    leader.signal.emit(asio::cancellation_type::terminal);

    CO_ASSERT_TRUE(co_await eventually([&] { return finished == 10 && leader.done; }));
    EXPECT_TRUE(is_cancelled(leader.error)) << code_of(leader.error).message();
    EXPECT_EQ(right.load(), 10) << "the waiters get a value, not the leader's cancellation";
    EXPECT_EQ(waiter_computations.load(), 1) << "one waiter computed for the others";
    EXPECT_EQ(co_await client.get("k", use_awaitable), std::optional<std::string>("2"));
  });
}

TEST_F(FlightCancel, CancelledLeaderWithNobodyWaitingFreesTheKey) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    CancellableLeader leader;
    leader.start(cache);
    CO_ASSERT_TRUE(co_await eventually([&] { return leader.gate.started == 1; }));
    leader.signal.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return leader.done; }));
    EXPECT_TRUE(is_cancelled(leader.error)) << code_of(leader.error).message();
    EXPECT_EQ(co_await client.exists("k", use_awaitable), 0);
    auto quick = []() -> asio::awaitable<int> { co_return 2; };
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, quick, use_awaitable), 2)
        << "the key is not left locked";
    EXPECT_EQ(cache.stats().computations, 2u);
  });
}

TEST_F(FlightCancel, CancelledWaiterLeavesTheOthersAlone) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    Gate gate;
    std::optional<int> leader_result, other_result;
    cache.get_or_set("k", 30s, gate.computation(7),
                     [&](std::exception_ptr e, int v) { leader_result = e ? -1 : v; });
    CO_ASSERT_TRUE(co_await eventually([&] { return gate.started == 1; }));

    // This waiter gives up on its own; its wait ends at once.
    asio::cancellation_signal cancel;
    std::exception_ptr cancelled_error;
    bool cancelled_done = false;
    cache.get_or_set("k", 30s, gate.computation(7),
                     asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e, int) {
                       cancelled_error = e;
                       cancelled_done = true;
                     }));
    cache.get_or_set("k", 30s, gate.computation(7),
                     [&](std::exception_ptr e, int v) { other_result = e ? -1 : v; });
    CO_ASSERT_TRUE(co_await eventually([&] { return cache.stats().waits == 2; }));
    cancel.emit(asio::cancellation_type::terminal);
    CO_ASSERT_TRUE(co_await eventually([&] { return cancelled_done; }));
    EXPECT_TRUE(is_cancelled(cancelled_error)) << code_of(cancelled_error).message();
    EXPECT_FALSE(leader_result.has_value()) << "the computation goes on";

    // The other waiter, and the leader, still get the value.
    gate.open = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return leader_result && other_result; }));
    EXPECT_EQ(leader_result, 7);
    EXPECT_EQ(other_result, 7);
    EXPECT_EQ(gate.started.load(), 1);
  });
}

TEST_F(FlightCancel, TheTimeLimitFailsEveryCallerWithTimeoutAndFreesTheKey) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.flight_timeout = 300ms;
    CacheService cache(client, options);
    Gate never;
    std::vector<std::error_code> codes;
    const auto started = Clock::now();
    for (int i = 0; i < 6; ++i) {
      cache.get_or_set("k", 30s, never.computation(1),
                       [&](std::exception_ptr e, int) { codes.push_back(code_of(e)); });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return codes.size() == 6; }));
    // The limit itself is the behaviour under test: nothing ends before it.
    EXPECT_GE(Clock::now() - started, 300ms);
    for (const std::error_code& code : codes) {
      EXPECT_EQ(code, make_error_code(errc::timeout)) << code.message();
    }
    EXPECT_EQ(never.started.load(), 1);
    auto quick = []() -> asio::awaitable<int> { co_return 3; };
    EXPECT_EQ(co_await cache.get_or_set("k", 30s, quick, use_awaitable), 3) << "the key is free";
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(FlightCancel, TheTimeLimitHoldsForWaitersWhenTheComputationIgnoresCancellation) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<bool> release = false, stubborn_started = false;
    auto stubborn = [&]() -> asio::awaitable<int> {
      stubborn_started = true;
      co_await asio::this_coro::throw_if_cancelled(false);
      asio::steady_timer timer(co_await asio::this_coro::executor);
      while (!release) {
        timer.expires_after(1ms);
        // Bound to no cancellation slot: the flight's deadline cannot stop it.
        co_await timer.async_wait(
            asio::bind_cancellation_slot(asio::cancellation_slot(), use_awaitable));
      }
      co_return 1;
    };
    GetOrSetOptions limited;
    limited.flight_timeout = 200ms;
    std::optional<std::error_code> leader_code;
    cache.get_or_set("k", limited, stubborn,
                     [&](std::exception_ptr e, int) { leader_code = code_of(e); });
    CO_ASSERT_TRUE(co_await eventually([&] { return stubborn_started.load(); }));
    std::vector<std::error_code> waiter_codes;
    for (int i = 0; i < 3; ++i) {
      cache.get_or_set("k", limited, stubborn,
                       [&](std::exception_ptr e, int) { waiter_codes.push_back(code_of(e)); });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return waiter_codes.size() == 3; }));
    for (const std::error_code& code : waiter_codes) {
      EXPECT_EQ(code, make_error_code(errc::timeout)) << code.message();
    }
    EXPECT_FALSE(leader_code.has_value()) << "the leader waits for its own computation";

    // A new caller does not join the flight past its limit: it computes, and stores.
    auto quick = []() -> asio::awaitable<int> { co_return 2; };
    EXPECT_EQ(co_await cache.get_or_set("k", limited, quick, use_awaitable), 2);
    release = true;
    CO_ASSERT_TRUE(co_await eventually([&] { return leader_code.has_value(); }));
    EXPECT_EQ(*leader_code, make_error_code(errc::timeout));
    EXPECT_EQ(co_await client.get("k", use_awaitable), std::optional<std::string>("2"))
        << "the late computation stored nothing over the new one";
  });
}

TEST_F(FlightCancel, TheTimeLimitIsCheckedWhereItIsSet) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    for (const auto limit : {0ms, -1ms}) {
      CacheOptions options;
      options.flight_timeout = limit;
      try {
        CacheService cache(client, options);
        ADD_FAILURE() << "accepted flight_timeout " << limit.count();
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        EXPECT_NE(e.message().find("CacheOptions.flight_timeout"), std::string::npos) << e.what();
      }
    }
    co_await client.connect(use_awaitable);
    CacheService cache(client);
    GetOrSetOptions negative;
    negative.flight_timeout = -5ms;
    auto quick = []() -> asio::awaitable<int> { co_return 1; };
    try {
      co_await cache.get_or_set("k", negative, quick, use_awaitable);
      ADD_FAILURE() << "accepted a negative flight_timeout";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
      EXPECT_NE(e.message().find("flight_timeout"), std::string::npos) << e.what();
    }
    auto memoized = cached(cache, "m", 1min, [](int x) -> asio::awaitable<int> { co_return x; });
    EXPECT_THROW(memoized.flight_timeout(-1ms), Error);
    EXPECT_EQ(co_await memoized.flight_timeout(50ms)(4), 4);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
