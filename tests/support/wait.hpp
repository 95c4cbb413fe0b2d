// Waiting in tests for the condition a step needs, never for a fixed time: the machine is
// shared and slow, so "sleep 50 ms, then it has happened" is a flaky test waiting to happen.
//
//   ASSERT_TRUE(test::wait_until([&] { return proxy.accepted() == 2; }));           // a thread
//   CO_ASSERT_TRUE(co_await test::eventually([&] { return client.stats().connected == 4; }));
//
// Both poll every millisecond or so and give up at the deadline (false), which a test then
// reports as a failure: a condition that never comes is a failing test, not a hung one.
#pragma once

#include <chrono>
#include <thread>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asyncredis::test {

// Generous: a wait that fails is a bug, and a loaded 2-core machine may take seconds.
inline constexpr std::chrono::milliseconds kWaitLimit{10'000};

// Blocks the calling thread until `condition()` is true (true) or `limit` has passed (false).
template <class Condition>
bool wait_until(Condition&& condition, std::chrono::milliseconds limit = kWaitLimit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// The same inside a coroutine: the io_context keeps running other work while it polls.
template <class Condition>
boost::asio::awaitable<bool> eventually(Condition condition,
                                        std::chrono::milliseconds limit = kWaitLimit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return condition();
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  co_return true;
}

}  // namespace asyncredis::test
