// Waiting for a Subscriber's next message without waiting for ever.
#pragma once

#include <chrono>
#include <optional>
#include <variant>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/subscriber.hpp"

namespace asyncredis::test {

// The next message, or nothing and a test failure after `limit`.
inline boost::asio::awaitable<std::optional<Message>> next_message(
    Subscriber& sub, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, limit);
  auto result =
      co_await (sub.receive(asio::use_awaitable) || timer.async_wait(asio::use_awaitable));
  if (result.index() == 1) {
    ADD_FAILURE() << "no message within " << limit.count() << " ms";
    co_return std::nullopt;
  }
  co_return std::get<0>(std::move(result));
}

}  // namespace asyncredis::test
