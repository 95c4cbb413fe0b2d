// The fixture of the per-data-type command suites (tests/integration/commands_*_test.cpp):
// a connected client on the suite's shared server, and a check for error replies.
#pragma once

#include <functional>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/shared_server.hpp"

namespace asyncredis::test {

class CommandsTest : public SharedServerTest {
 protected:
  // Runs `body` with a connected client.
  void with_client(std::function<boost::asio::awaitable<void>(RedisClient&)> body) {
    run_async([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
      RedisClient client(io.get_executor(), server_->settings());
      co_await client.connect(use_awaitable);
      co_await body(client);
      co_await client.disconnect(use_awaitable);
    });
  }
};

// Runs `operation` (a command called without a token: asio::deferred) and checks that it fails
// with errc::server_error whose message, Redis's, starts with `prefix` ("WRONGTYPE", ...).
// Takes the operation by reference: GCC 12 must not see a temporary in the co_await.
template <class Operation>
boost::asio::awaitable<void> expect_server_error(Operation& operation, const char* prefix) {
  try {
    co_await std::move(operation)(use_awaitable);
    ADD_FAILURE() << "the command succeeded; expected an error starting with " << prefix;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << e.what();
    EXPECT_TRUE(e.message().starts_with(prefix)) << e.message();
  }
}

}  // namespace asyncredis::test
