// Set commands against a real redis-server.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using test::use_awaitable;
namespace asio = boost::asio;
using Strings = std::vector<std::string>;

class SetCommandsTest : public test::CommandsTest {};

Strings sorted(Strings values) {
  std::sort(values.begin(), values.end());
  return values;
}

TEST_F(SetCommandsTest, MembershipCardinalityAndAlgebra) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Strings a = {"1", "2", "3"};
    const Strings b = {"2", "3", "4"};
    co_await c.sadd("a", a, use_awaitable);
    co_await c.sadd("b", b, use_awaitable);
    EXPECT_TRUE(co_await c.sismember("a", "1", use_awaitable));
    EXPECT_FALSE(co_await c.sismember("a", "4", use_awaitable));
    const Strings asked = {"4", "1", "9"};
    auto r1 = co_await c.smismember("a", asked, use_awaitable);
    EXPECT_EQ(r1, (std::vector<bool>{false, true, false}));
    EXPECT_EQ(co_await c.scard("a", use_awaitable), 3);
    const Strings keys = {"a", "b"};
    auto inter = co_await c.sinter(keys, use_awaitable);
    EXPECT_EQ(sorted(inter), (Strings{"2", "3"}));
    auto both = co_await c.sunion(keys, use_awaitable);
    EXPECT_EQ(sorted(both), (Strings{"1", "2", "3", "4"}));
  });
}

TEST_F(SetCommandsTest, MissingSetsAreEmpty) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.sadd("a", "x", use_awaitable);
    EXPECT_FALSE(co_await c.sismember("none", "x", use_awaitable));
    const Strings asked = {"x"};
    auto r2 = co_await c.smismember("none", asked, use_awaitable);
    EXPECT_EQ(r2, (std::vector<bool>{false}));
    EXPECT_EQ(co_await c.scard("none", use_awaitable), 0);
    const Strings keys = {"a", "none"};
    auto r3 = co_await c.sinter(keys, use_awaitable);
    EXPECT_EQ(r3, Strings{});
    auto r4 = co_await c.sunion(keys, use_awaitable);
    EXPECT_EQ(r4, (Strings{"x"}));
    const ScanOptions all;
    auto page = co_await c.sscan("none", "0", all, use_awaitable);
    EXPECT_TRUE(page.done());
    EXPECT_TRUE(page.items.empty());
  });
}

TEST_F(SetCommandsTest, SscanWalksEveryMemberByCursor) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Strings members;
    for (int i = 0; i < 500; ++i) members.push_back("m" + std::to_string(i));
    co_await c.sadd("big", members, use_awaitable);
    std::set<std::string> seen;
    std::string cursor = "0";
    const ScanOptions options{.count = 100};
    do {
      auto page = co_await c.sscan("big", cursor, options, use_awaitable);
      seen.insert(page.items.begin(), page.items.end());
      cursor = page.cursor;
    } while (cursor != "0");
    EXPECT_EQ(seen, std::set<std::string>(members.begin(), members.end()));
  });
}

TEST_F(SetCommandsTest, SetCommandsOnAnotherTypeAreWrongtype) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("s", "text", use_awaitable);
    auto member = c.sismember("s", "x");
    co_await test::expect_server_error(member, "WRONGTYPE");
    auto card = c.scard("s");
    co_await test::expect_server_error(card, "WRONGTYPE");
    const Strings keys = {"s"};
    auto inter = c.sinter(keys);
    co_await test::expect_server_error(inter, "WRONGTYPE");
    const ScanOptions all;
    auto scan = c.sscan("s", "0", all);
    co_await test::expect_server_error(scan, "WRONGTYPE");
  });
}

}  // namespace
}  // namespace asyncredis
