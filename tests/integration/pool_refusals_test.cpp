// Commands that would break a connection other callers share are refused before they are
// sent, with an error naming the API to use; afterwards the pool serves everyone as before.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

class PoolRefusals : public test::SharedServerTest {};

// The error a command<Reply>(args...) call fails with, and its message.
asio::awaitable<std::pair<errc, std::string>> outcome(const Commands& commands,
                                                      std::vector<std::string> args) {
  std::exception_ptr failure;
  try {
    co_await commands.command<Reply>(args, use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  co_return std::pair{code_of(failure), error_message_of(failure)};
}

// After each refusal: every GET of the pool still reads db 0's value, PING answers, and
// disconnect() completes (before, one SELECT and one CLIENT REPLY OFF made 0 of 100 GETs
// right and PING and disconnect() hang).
TEST_F(PoolRefusals, RefusedCommandsLeaveThePoolWorking) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.max_connections = 2;
    settings.command_timeout = 2s;
    RedisClient client(io.get_executor(), settings, 0);
    co_await client.connect(use_awaitable);
    co_await client.set("key", "value", use_awaitable);

    const std::vector<std::pair<std::vector<std::string>, std::string>> refused = {
        {{"SELECT", "5"}, "RedisClient(executor, settings, db)"},
        {{"CLIENT", "REPLY", "OFF"}, "CLIENT REPLY"},
        {{"CLIENT", "REPLY", "SKIP"}, "CLIENT REPLY"},
        {{"SUBSCRIBE", "news"}, "asyncredis::Subscriber"},
        {{"PSUBSCRIBE", "n*"}, "asyncredis::Subscriber"},
        {{"MONITOR"}, "redis-cli monitor"},
        {{"RESET"}, "disconnect() and connect()"},
        {{"QUIT"}, "use disconnect()"},
        {{"HELLO", "3"}, "RedisSettings::username"},
        {{"MULTI"}, "use transaction()"},
        {{"EXEC"}, "use transaction()"},
        {{"WATCH", "key"}, "client.lease()"},
        {{"BLPOP", "queue", "0"}, "client.lease()"},
        {{"XREAD", "BLOCK", "0", "STREAMS", "s", "$"}, "client.lease()"},
    };
    for (const auto& [args, points_to] : refused) {
      const auto [code, message] = co_await outcome(client, args);
      EXPECT_EQ(code, errc::invalid_argument) << args[0] << ": " << message;
      EXPECT_NE(message.find(points_to), std::string::npos) << args[0] << ": " << message;
      int right = 0;
      for (int i = 0; i < 100; ++i) {
        if (co_await client.get("key", use_awaitable) == "value") ++right;
      }
      EXPECT_EQ(right, 100) << "after " << args[0];
    }
    EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");
    // A pipeline is looked at command by command.
    Pipeline p;
    p.add("GET", "key").add("SELECT", "3");
    std::exception_ptr failure;
    try {
      co_await client.execute(p, use_awaitable);
    } catch (...) {
      failure = std::current_exception();
    }
    EXPECT_EQ(code_of(failure), errc::invalid_argument);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(PoolRefusals, WhatIsSafeStillRuns) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings(), 0);
    co_await client.connect(use_awaitable);
    Pipeline p;
    p.add("INCR", "n").add("INCR", "n");
    auto applied = co_await client.transaction(p, use_awaitable);
    CO_ASSERT_TRUE(applied.has_value());
    EXPECT_EQ(applied->at(1).integer(), 2);
    Pipeline by_hand;  // MULTI and its EXEC in one request: a transaction too
    by_hand.add("MULTI").add("INCR", "n").add("EXEC");
    auto replies = co_await client.execute(by_hand, use_awaitable);
    EXPECT_EQ(replies.at(2), Reply::array({Reply::integer(3)}));
    EXPECT_EQ(co_await client.command<std::int64_t>("XLEN", "nostream", use_awaitable), 0);
    co_await client.command<void>("CLIENT", "SETNAME", "refusals-test", use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

// A Lease may WATCH and block (that is what it is for), but not subscribe or switch database:
// its connection goes back to the pool afterwards.
TEST_F(PoolRefusals, ALeaseBlocksAndWatchesButKeepsItsDatabase) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings(), 0);
    co_await client.connect(use_awaitable);
    {
      Lease lease = co_await client.lease(use_awaitable);
      co_await lease.command<void>("WATCH", "k", use_awaitable);
      auto popped = co_await lease.command<Reply>("BLPOP", "empty", "0.05", use_awaitable);
      EXPECT_TRUE(popped.is_nil());
      for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
               {"SELECT", "1"}, {"SUBSCRIBE", "ch"}, {"MONITOR"}}) {
        const auto [code, message] = co_await outcome(lease, args);
        EXPECT_EQ(code, errc::invalid_argument) << args[0] << ": " << message;
      }
      EXPECT_EQ(co_await lease.ping(use_awaitable), "PONG");
    }
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
