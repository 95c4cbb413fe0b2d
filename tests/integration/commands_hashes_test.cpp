// Hash commands against a real redis-server.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using test::use_awaitable;
namespace asio = boost::asio;
using Fields = std::vector<std::pair<std::string, std::string>>;

class HashCommandsTest : public test::CommandsTest {};

TEST_F(HashCommandsTest, CountersAndFieldQueries) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.hincrby("h", "n", 5, use_awaitable), 5);
    EXPECT_EQ(co_await c.hincrby("h", "n", -7, use_awaitable), -2);
    EXPECT_DOUBLE_EQ(co_await c.hincrbyfloat("h", "f", 1.5, use_awaitable), 1.5);
    EXPECT_DOUBLE_EQ(co_await c.hincrbyfloat("h", "f", 0.25, use_awaitable), 1.75);
    EXPECT_TRUE(co_await c.hsetnx("h", "name", "ann", use_awaitable));
    EXPECT_FALSE(co_await c.hsetnx("h", "name", "bob", use_awaitable));
    const std::vector<std::string> asked = {"name", "missing", "n"};
    auto r1 = co_await c.hmget("h", asked, use_awaitable);
    EXPECT_EQ(r1, (std::vector<std::optional<std::string>>{"ann", std::nullopt, "-2"}));
    EXPECT_TRUE(co_await c.hexists("h", "name", use_awaitable));
    EXPECT_FALSE(co_await c.hexists("h", "missing", use_awaitable));
    EXPECT_EQ(co_await c.hlen("h", use_awaitable), 3);
    // A field that is not a number cannot be incremented.
    auto incr = c.hincrby("h", "name", 1);
    co_await test::expect_server_error(incr, "ERR hash value is not an integer");
  });
}

TEST_F(HashCommandsTest, MissingHashesAreEmpty) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const std::vector<std::string> asked = {"a", "b"};
    auto r2 = co_await c.hmget("none", asked, use_awaitable);
    EXPECT_EQ(r2, (std::vector<std::optional<std::string>>{std::nullopt, std::nullopt}));
    EXPECT_FALSE(co_await c.hexists("none", "a", use_awaitable));
    EXPECT_EQ(co_await c.hlen("none", use_awaitable), 0);
    const ScanOptions all;
    auto page = co_await c.hscan("none", "0", all, use_awaitable);
    EXPECT_TRUE(page.done());
    EXPECT_TRUE(page.items.empty());
  });
}

TEST_F(HashCommandsTest, HscanWalksEveryFieldByCursor) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    std::map<std::string, std::string> expected;
    // More fields than hash-max-listpack-entries (512): a listpack comes back whole, in one
    // page, a hashtable in pages.
    for (int i = 0; i < 600; ++i) expected["f" + std::to_string(i)] = std::to_string(i);
    co_await c.hset("big", expected, use_awaitable);
    co_await c.hset("big", "other", "x", use_awaitable);
    auto r1 = co_await c.object_encoding("big", use_awaitable);
    EXPECT_EQ(r1, std::optional<std::string>("hashtable"));
    std::map<std::string, std::string> seen;
    std::string cursor = "0";
    int pages = 0;
    const ScanOptions options{.match = "f*", .count = 50};
    do {
      auto page = co_await c.hscan("big", cursor, options, use_awaitable);
      for (auto& [field, value] : page.items) seen[field] = value;
      cursor = page.cursor;
      ++pages;
    } while (cursor != "0");
    EXPECT_EQ(seen, expected);  // "other" is filtered out by MATCH
    EXPECT_GT(pages, 1);
    // TYPE is SCAN's only.
    const ScanOptions typed{.type = "string"};
    EXPECT_THROW(static_cast<void>(c.hscan("big", "0", typed)), Error);
  });
}

TEST_F(HashCommandsTest, HashCommandsOnAnotherTypeAreWrongtype) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.rpush("list", "x", use_awaitable);
    auto incr = c.hincrby("list", "f", 1);
    co_await test::expect_server_error(incr, "WRONGTYPE");
    auto len = c.hlen("list");
    co_await test::expect_server_error(len, "WRONGTYPE");
    const std::vector<std::string> fields = {"f"};
    auto get = c.hmget("list", fields);
    co_await test::expect_server_error(get, "WRONGTYPE");
    const ScanOptions all;
    auto scan = c.hscan("list", "0", all);
    co_await test::expect_server_error(scan, "WRONGTYPE");
  });
}

}  // namespace
}  // namespace asyncredis
