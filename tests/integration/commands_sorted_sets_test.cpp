// Sorted set commands against a real redis-server.
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
using Strings = std::vector<std::string>;
using Scored = std::vector<std::pair<std::string, double>>;

class SortedSetCommandsTest : public test::CommandsTest {
 protected:
  // a:1 b:2 c:3 d:4 in "z".
  static asio::awaitable<void> fill(RedisClient& c) {
    const std::vector<std::pair<double, std::string>> members = {
        {1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}};
    co_await c.zadd("z", members, use_awaitable);
  }
};

TEST_F(SortedSetCommandsTest, ScoresRanksAndCounts) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await fill(c);
    auto r1 = co_await c.zscore("z", "b", use_awaitable);
    EXPECT_EQ(r1, std::optional<double>(2));
    EXPECT_DOUBLE_EQ(co_await c.zincrby("z", 2.5, "b", use_awaitable), 4.5);
    EXPECT_DOUBLE_EQ(co_await c.zincrby("z", 1, "new", use_awaitable), 1);
    auto r2 = co_await c.zrank("z", "a", use_awaitable);
    EXPECT_EQ(r2, std::optional<std::int64_t>(0));
    auto r3 = co_await c.zrank("z", "b", use_awaitable);
    EXPECT_EQ(r3, std::optional<std::int64_t>(4));
    EXPECT_EQ(co_await c.zcard("z", use_awaitable), 5);
    EXPECT_EQ(co_await c.zcount("z", 1, 3, use_awaitable), 3);
    EXPECT_EQ(co_await c.zcount("z", "(1", "+inf", use_awaitable), 3);
  });
}

TEST_F(SortedSetCommandsTest, ZrangeByRankScoreAndLexReversedAndLimited) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await fill(c);
    const ZRangeOptions by_rank;
    auto r4 = co_await c.zrange("z", 0, -1, by_rank, use_awaitable);
    EXPECT_EQ(r4, (Strings{"a", "b", "c", "d"}));
    const ZRangeOptions reversed{.reverse = true};
    auto r5 = co_await c.zrange("z", 0, 1, reversed, use_awaitable);
    EXPECT_EQ(r5, (Strings{"d", "c"}));
    const ZRangeOptions by_score{.by = ZRangeOptions::By::score};
    auto r6 = co_await c.zrange("z", "(1", 3, by_score, use_awaitable);
    EXPECT_EQ(r6, (Strings{"b", "c"}));
    const ZRangeOptions by_score_limited{.by = ZRangeOptions::By::score,
                                         .limit = ZRangeOptions::Limit{1, 2}};
    auto r7 = co_await c.zrange("z", "-inf", "+inf", by_score_limited, use_awaitable);
    EXPECT_EQ(r7, (Strings{"b", "c"}));
    const ZRangeOptions by_score_reversed{.by = ZRangeOptions::By::score, .reverse = true};
    auto r8 = co_await c.zrange("z", 3, 2, by_score_reversed, use_awaitable);
    EXPECT_EQ(r8, (Strings{"c", "b"}));
    auto r9 = co_await c.zrange_with_scores("z", 0, 1, by_rank, use_awaitable);
    EXPECT_EQ(r9, (Scored{{"a", 1}, {"b", 2}}));
    // Lex order needs equal scores.
    const std::vector<std::pair<double, std::string>> words = {
        {0, "apple"}, {0, "banana"}, {0, "cherry"}};
    co_await c.zadd("words", words, use_awaitable);
    const ZRangeOptions by_lex{.by = ZRangeOptions::By::lex};
    auto r10 = co_await c.zrange("words", "[b", "+", by_lex, use_awaitable);
    EXPECT_EQ(r10, (Strings{"banana", "cherry"}));
    // LIMIT by rank, and a bound that is not a number, are Redis's errors.
    const ZRangeOptions limited_by_rank{.limit = ZRangeOptions::Limit{0, 1}};
    auto bad_limit = c.zrange("z", 0, -1, limited_by_rank);
    co_await test::expect_server_error(bad_limit, "ERR syntax error");
    auto bad_bound = c.zrange("z", "x", 3, by_score);
    co_await test::expect_server_error(bad_bound, "ERR min or max is not a float");
  });
}

TEST_F(SortedSetCommandsTest, ZpopminTakesTheLowestScores) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await fill(c);
    auto r11 = co_await c.zpopmin("z", 1, use_awaitable);
    EXPECT_EQ(r11, (Scored{{"a", 1}}));
    auto r12 = co_await c.zpopmin("z", 2, use_awaitable);
    EXPECT_EQ(r12, (Scored{{"b", 2}, {"c", 3}}));
    EXPECT_EQ(co_await c.zcard("z", use_awaitable), 1);
  });
}

TEST_F(SortedSetCommandsTest, MissingSortedSetsAndMembersAreEmpty) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await fill(c);
    EXPECT_EQ(co_await c.zscore("z", "nobody", use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.zscore("none", "a", use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.zrank("z", "nobody", use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.zcard("none", use_awaitable), 0);
    EXPECT_EQ(co_await c.zcount("none", "-inf", "+inf", use_awaitable), 0);
    const ZRangeOptions by_rank;
    auto r13 = co_await c.zrange("none", 0, -1, by_rank, use_awaitable);
    EXPECT_EQ(r13, Strings{});
    auto r14 = co_await c.zpopmin("none", 3, use_awaitable);
    EXPECT_EQ(r14, Scored{});
    const ScanOptions all;
    auto page = co_await c.zscan("none", "0", all, use_awaitable);
    EXPECT_TRUE(page.done());
    EXPECT_TRUE(page.items.empty());
  });
}

TEST_F(SortedSetCommandsTest, ZscanWalksEveryMemberWithItsScore) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    std::vector<std::pair<double, std::string>> members;
    std::map<std::string, double> expected;
    for (int i = 0; i < 300; ++i) {
      members.emplace_back(i * 0.5, "m" + std::to_string(i));
      expected["m" + std::to_string(i)] = i * 0.5;
    }
    co_await c.zadd("big", members, use_awaitable);
    std::map<std::string, double> seen;
    std::string cursor = "0";
    const ScanOptions options{.count = 50};
    do {
      auto page = co_await c.zscan("big", cursor, options, use_awaitable);
      for (auto& [member, score] : page.items) seen[member] = score;
      cursor = page.cursor;
    } while (cursor != "0");
    EXPECT_EQ(seen, expected);
  });
}

TEST_F(SortedSetCommandsTest, SortedSetCommandsOnAnotherTypeAreWrongtype) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("s", "text", use_awaitable);
    auto score = c.zscore("s", "a");
    co_await test::expect_server_error(score, "WRONGTYPE");
    auto incr = c.zincrby("s", 1, "a");
    co_await test::expect_server_error(incr, "WRONGTYPE");
    const ZRangeOptions by_rank;
    auto range = c.zrange("s", 0, -1, by_rank);
    co_await test::expect_server_error(range, "WRONGTYPE");
    auto pop = c.zpopmin("s", 1);
    co_await test::expect_server_error(pop, "WRONGTYPE");
  });
}

}  // namespace
}  // namespace asyncredis
