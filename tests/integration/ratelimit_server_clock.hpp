// The rate limit tests' view of Redis's clock: the limiter decides on Redis's TIME, so tests
// that wait for a window or a Retry-After to pass wait on that clock, by polling it, rather than
// sleeping a duration computed from it.
#pragma once

#include <chrono>
#include <cstdint>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/client.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

// Redis's TIME in milliseconds since the Unix epoch.
inline boost::asio::awaitable<std::int64_t> server_ms(RedisClient& client) {
  const auto t = co_await client.time(boost::asio::use_awaitable);
  co_return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Polls Redis's clock (about every millisecond) until reached(now_ms) holds: true, or false
// after kWaitLimit.
template <class Reached>
boost::asio::awaitable<bool> until_server_time(RedisClient& client, Reached reached) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  for (;;) {
    if (reached(co_await server_ms(client))) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(std::chrono::milliseconds(1));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace asyncredis::test
