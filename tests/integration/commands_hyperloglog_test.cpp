// HyperLogLog commands against a real redis-server.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using test::use_awaitable;
namespace asio = boost::asio;
using Strings = std::vector<std::string>;

class HyperLogLogCommandsTest : public test::CommandsTest {};

TEST_F(HyperLogLogCommandsTest, AddCountMerge) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Strings first = {"a", "b", "c"};
    const Strings second = {"c", "d"};
    EXPECT_TRUE(co_await c.pfadd("h1", first, use_awaitable));
    EXPECT_FALSE(co_await c.pfadd("h1", "a", use_awaitable));  // already counted
    EXPECT_TRUE(co_await c.pfadd("h2", second, use_awaitable));
    // Small counts are exact.
    EXPECT_EQ(co_await c.pfcount("h1", use_awaitable), 3);
    const Strings both = {"h1", "h2"};
    EXPECT_EQ(co_await c.pfcount(both, use_awaitable), 4);
    co_await c.pfmerge("merged", both, use_awaitable);
    EXPECT_EQ(co_await c.pfcount("merged", use_awaitable), 4);
  });
}

TEST_F(HyperLogLogCommandsTest, MissingKeysCountZero) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.pfcount("none", use_awaitable), 0);
    const Strings nothing;
    EXPECT_TRUE(co_await c.pfadd("empty", nothing, use_awaitable));  // creates the key
    EXPECT_EQ(co_await c.pfcount("empty", use_awaitable), 0);
    co_await c.pfmerge("merged", "none", use_awaitable);
    EXPECT_EQ(co_await c.pfcount("merged", use_awaitable), 0);
  });
}

TEST_F(HyperLogLogCommandsTest, OtherTypesAreWrongtypeOrInvalid) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.rpush("list", "x", use_awaitable);
    auto add = c.pfadd("list", "a");
    co_await test::expect_server_error(add, "WRONGTYPE");
    // A string that is not a HyperLogLog is refused with its own error.
    co_await c.set("s", "text", use_awaitable);
    auto count = c.pfcount("s");
    co_await test::expect_server_error(count, "WRONGTYPE");
  });
}

}  // namespace
}  // namespace asyncredis
