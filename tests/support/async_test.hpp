// Runs a test body written as a coroutine on a fresh io_context, with a time limit.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/error.hpp"
#include "support/wait.hpp"

// ASSERT_* cannot be used in coroutines (they `return`); these record the failure and
// co_return instead.
#define CO_ASSERT_TRUE(condition)                        \
  if (!(condition)) {                                    \
    ADD_FAILURE() << "assertion failed: " << #condition; \
    co_return;                                           \
  }
#define CO_ASSERT_EQ(actual, expected) \
  if (!((actual) == (expected))) {     \
    EXPECT_EQ(actual, expected);       \
    co_return;                         \
  }

namespace asyncredis::test {

namespace asio = boost::asio;
using asio::use_awaitable;

// The asyncredis::Error an awaitable fails with; a test failure (and an Error with no code)
// when it succeeds.
template <class T>
asio::awaitable<Error> error_of(asio::awaitable<T> op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    co_return e;
  }
  ADD_FAILURE() << "the operation succeeded";
  co_return Error(errc{}, "no error");
}

// Runs body(io_context) until it finishes; rethrows what it threw; throws if it has not
// finished within `limit` (a hang is a failure, never a stuck test run). Then runs what the
// body left behind (the completions of a client it destroyed, a lease's last reply) until the
// io_context has no work left, for at most `wind_down`, and returns whether it got there: true
// means every handler the body started has been called, so a test that counts calls after
// run_async() (exactly once, never twice) can assert on that instead of sleeping.
inline bool run_async(const std::function<asio::awaitable<void>(asio::io_context&)>& body,
                      std::chrono::milliseconds limit = std::chrono::seconds(60),
                      std::chrono::milliseconds wind_down = kWaitLimit) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(io), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(50));
  }
  if (!done) throw std::runtime_error("the test coroutine did not finish in time");
  if (error) std::rethrow_exception(error);
  // run_for() returns as soon as the io_context runs out of work, which stops it.
  io.run_for(wind_down);
  return io.stopped();
}

// Suspends the calling coroutine for `d`: for time that is part of what a test does (an
// outage's length, pacing a stream of requests), never to wait for something to have happened
// (that is support/wait.hpp's eventually()).
inline asio::awaitable<void> sleep_for(std::chrono::steady_clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(use_awaitable);
}

}  // namespace asyncredis::test
