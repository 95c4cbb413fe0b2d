// Key commands (of any type) against a real redis-server.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::use_awaitable;
namespace asio = boost::asio;
using Strings = std::vector<std::string>;

class KeyCommandsTest : public test::CommandsTest {};

TEST_F(KeyCommandsTest, TypeNamesEveryKind) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("string", "x", use_awaitable);
    co_await c.rpush("list", "x", use_awaitable);
    co_await c.hset("hash", "f", "x", use_awaitable);
    co_await c.sadd("set", "x", use_awaitable);
    co_await c.zadd("zset", 1, "x", use_awaitable);
    const std::vector<std::pair<std::string, std::string>> fields = {{"f", "x"}};
    const XAddOptions generated;
    co_await c.xadd("stream", fields, generated, use_awaitable);
    for (std::string kind : {"string", "list", "hash", "set", "zset", "stream"}) {
      auto r1 = co_await c.type(kind, use_awaitable);
      EXPECT_EQ(r1, kind);
    }
    EXPECT_EQ(co_await c.type("none", use_awaitable), "none");
  });
}

TEST_F(KeyCommandsTest, RenamePersistCopy) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const SetOptions expiring{.ttl = 100s};
    co_await c.set("a", "1", expiring, use_awaitable);
    co_await c.rename("a", "b", use_awaitable);
    EXPECT_EQ(co_await c.exists("a", use_awaitable), 0);
    EXPECT_TRUE(co_await c.persist("b", use_awaitable));
    EXPECT_EQ(co_await c.ttl("b", use_awaitable), -1);
    EXPECT_FALSE(co_await c.persist("b", use_awaitable));  // no expiry left
    EXPECT_FALSE(co_await c.persist("none", use_awaitable));
    EXPECT_TRUE(co_await c.copy("b", "c", false, use_awaitable));
    co_await c.set("b", "2", use_awaitable);
    EXPECT_FALSE(co_await c.copy("b", "c", false, use_awaitable));  // c exists
    auto r2 = co_await c.get("c", use_awaitable);
    EXPECT_EQ(r2, std::optional<std::string>("1"));
    EXPECT_TRUE(co_await c.copy("b", "c", true, use_awaitable));
    auto r3 = co_await c.get("c", use_awaitable);
    EXPECT_EQ(r3, std::optional<std::string>("2"));
    EXPECT_FALSE(co_await c.copy("none", "d", true, use_awaitable));
    auto rename_missing = c.rename("none", "x");
    co_await test::expect_server_error(rename_missing, "ERR no such key");
  });
}

TEST_F(KeyCommandsTest, DumpAndRestoreAValue) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Strings values = {"a", "b", "c"};
    co_await c.rpush("list", values, use_awaitable);
    auto dumped = co_await c.dump("list", use_awaitable);
    CO_ASSERT_TRUE(dumped.has_value())
    co_await c.restore("copy", 0ms, *dumped, false, use_awaitable);
    auto r4 = co_await c.lrange("copy", 0, -1, use_awaitable);
    EXPECT_EQ(r4, values);
    EXPECT_EQ(co_await c.ttl("copy", use_awaitable), -1);
    auto busy = c.restore("copy", 0ms, *dumped, false);
    co_await test::expect_server_error(busy, "BUSYKEY");
    co_await c.restore("copy", 100s, *dumped, true, use_awaitable);
    EXPECT_GT(co_await c.ttl("copy", use_awaitable), 0);
    EXPECT_EQ(co_await c.dump("none", use_awaitable), std::nullopt);
    auto garbage = c.restore("other", 0ms, "not a dump", false);
    co_await test::expect_server_error(garbage, "ERR DUMP payload");
  });
}

TEST_F(KeyCommandsTest, ObjectEncodingNamesTheRepresentation) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("number", 12345, use_awaitable);
    co_await c.set("text", "short text", use_awaitable);
    co_await c.hset("hash", "f", "v", use_awaitable);
    auto r5 = co_await c.object_encoding("number", use_awaitable);
    EXPECT_EQ(r5, std::optional<std::string>("int"));
    auto r6 = co_await c.object_encoding("text", use_awaitable);
    EXPECT_EQ(r6, std::optional<std::string>("embstr"));
    auto r7 = co_await c.object_encoding("hash", use_awaitable);
    EXPECT_EQ(r7, std::optional<std::string>("listpack"));
    EXPECT_EQ(co_await c.object_encoding("none", use_awaitable), std::nullopt);
  });
}

}  // namespace
}  // namespace asyncredis
