// Redis functions (FUNCTION LOAD, FCALL, FCALL_RO) against a real redis-server.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using test::use_awaitable;
namespace asio = boost::asio;
using Strings = std::vector<std::string>;

constexpr const char* kLibrary = R"(#!lua name=typedlib
redis.register_function('incr_by', function(keys, args)
  return redis.call('INCRBY', keys[1], args[1])
end)
redis.register_function{function_name = 'get_ro', flags = {'no-writes'},
  callback = function(keys, args) return redis.call('GET', keys[1]) end}
)";

// FLUSHALL before each test leaves functions loaded; each test starts without any.
class FunctionCommandsTest : public test::CommandsTest {
 protected:
  void SetUp() override {
    CommandsTest::SetUp();
    server_->cli({"FUNCTION", "FLUSH"});
  }
};

TEST_F(FunctionCommandsTest, LoadThenCallByName) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const std::string code = kLibrary;
    EXPECT_EQ(co_await c.function_load(code, false, use_awaitable), "typedlib");
    auto again = c.function_load(code, false);
    co_await test::expect_server_error(again, "ERR Library 'typedlib' already exists");
    EXPECT_EQ(co_await c.function_load(code, true, use_awaitable), "typedlib");
    const Strings no_args;
    EXPECT_EQ(co_await c.fcall<std::int64_t>("incr_by", "n", 5, use_awaitable), 5);
    auto r1 =
        co_await c.fcall_ro<std::optional<std::string>>("get_ro", "n", no_args, use_awaitable);
    EXPECT_EQ(r1, std::optional<std::string>("5"));
    EXPECT_EQ(
        co_await c.fcall_ro<std::optional<std::string>>("get_ro", "none", no_args, use_awaitable),
        std::nullopt);
    // The raw reply by default, like eval().
    Reply raw = co_await c.fcall("incr_by", "n", 1, use_awaitable);
    EXPECT_EQ(raw, Reply::integer(6));
  });
}

TEST_F(FunctionCommandsTest, ErrorsComeBackWithRedisText) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const std::string code = kLibrary;
    co_await c.function_load(code, false, use_awaitable);
    // With T = Reply (the default) an error reply is a value: Reply::is_error().
    Reply raw = co_await c.fcall("nosuchfunction", "k", 1, use_awaitable);
    EXPECT_TRUE(raw.is_error());
    auto unknown = c.fcall<std::int64_t>("nosuchfunction", "k", 1);
    co_await test::expect_server_error(unknown, "ERR Function not found");
    auto writes_read_only = c.fcall_ro<std::int64_t>("incr_by", "n", 1);
    co_await test::expect_server_error(writes_read_only,
                                       "ERR Can not execute a script with write flag");
    co_await c.rpush("list", "x", use_awaitable);
    auto wrong_type = c.fcall<std::int64_t>("incr_by", "list", 1);
    co_await test::expect_server_error(wrong_type, "WRONGTYPE");
    const std::string broken = "#!lua name=broken\nthis is not lua";
    auto load_broken = c.function_load(broken, false);
    co_await test::expect_server_error(load_broken, "ERR Error compiling function");
  });
}

}  // namespace
}  // namespace asyncredis
