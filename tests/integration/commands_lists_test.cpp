// List commands, and the blocking ones that only a Lease has, against a real redis-server.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::use_awaitable;
namespace asio = boost::asio;
using Strings = std::vector<std::string>;

class ListCommandsTest : public test::CommandsTest {};

// The blocking forms are a Lease's only: on a RedisClient they would stall a shared connection.
template <class C>
concept HasBlpop = requires(const C& commands) {
  commands.blpop("k", 1s);
};
static_assert(HasBlpop<Lease>);
static_assert(!HasBlpop<RedisClient>);

TEST_F(ListCommandsTest, PushPopRangeLengthTrim) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Strings tail = {"c", "d"};
    EXPECT_EQ(co_await c.rpush("l", tail, use_awaitable), 2);
    EXPECT_EQ(co_await c.lpush("l", "b", use_awaitable), 3);
    EXPECT_EQ(co_await c.lpush("l", "a", use_awaitable), 4);
    auto r1 = co_await c.lrange("l", 0, -1, use_awaitable);
    EXPECT_EQ(r1, (Strings{"a", "b", "c", "d"}));
    auto r2 = co_await c.lrange("l", 1, 2, use_awaitable);
    EXPECT_EQ(r2, (Strings{"b", "c"}));
    EXPECT_EQ(co_await c.llen("l", use_awaitable), 4);
    auto r3 = co_await c.lpop("l", use_awaitable);
    EXPECT_EQ(r3, std::optional<std::string>("a"));
    auto r4 = co_await c.rpop("l", use_awaitable);
    EXPECT_EQ(r4, std::optional<std::string>("d"));
    const Strings pushed = {"e", "f", "g"};
    co_await c.rpush("l", pushed, use_awaitable);  // b c e f g
    auto r5 = co_await c.lpop("l", 2, use_awaitable);
    EXPECT_EQ(r5, (Strings{"b", "c"}));
    auto r6 = co_await c.rpop("l", 5, use_awaitable);
    EXPECT_EQ(r6, (Strings{"g", "f", "e"}));
    EXPECT_EQ(co_await c.llen("l", use_awaitable), 0);
    co_await c.rpush("t", pushed, use_awaitable);
    co_await c.ltrim("t", 1, -1, use_awaitable);
    auto r7 = co_await c.lrange("t", 0, -1, use_awaitable);
    EXPECT_EQ(r7, (Strings{"f", "g"}));
  });
}

TEST_F(ListCommandsTest, MissingListsAreEmpty) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.lpop("none", use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.rpop("none", use_awaitable), std::nullopt);
    auto r8 = co_await c.lpop("none", 3, use_awaitable);
    EXPECT_EQ(r8, Strings{});
    auto r9 = co_await c.rpop("none", 3, use_awaitable);
    EXPECT_EQ(r9, Strings{});
    auto r10 = co_await c.lrange("none", 0, -1, use_awaitable);
    EXPECT_EQ(r10, Strings{});
    EXPECT_EQ(co_await c.llen("none", use_awaitable), 0);
    EXPECT_EQ(co_await c.lmove("none", "dst", ListEnd::left, ListEnd::right, use_awaitable),
              std::nullopt);
    EXPECT_EQ(co_await c.exists("dst", use_awaitable), 0);
    co_await c.ltrim("none", 0, 1, use_awaitable);  // nothing to trim is fine
  });
}

TEST_F(ListCommandsTest, LmoveTakesAndPutsAtTheEndsAsked) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Strings values = {"a", "b", "c"};
    co_await c.rpush("src", values, use_awaitable);
    auto r11 = co_await c.lmove("src", "dst", ListEnd::right, ListEnd::left, use_awaitable);
    EXPECT_EQ(r11, std::optional<std::string>("c"));
    auto r12 = co_await c.lmove("src", "dst", ListEnd::left, ListEnd::left, use_awaitable);
    EXPECT_EQ(r12, std::optional<std::string>("a"));
    auto r13 = co_await c.lrange("dst", 0, -1, use_awaitable);
    EXPECT_EQ(r13, (Strings{"a", "c"}));
    auto r14 = co_await c.lrange("src", 0, -1, use_awaitable);
    EXPECT_EQ(r14, (Strings{"b"}));
  });
}

TEST_F(ListCommandsTest, ListCommandsOnAnotherTypeAreWrongtype) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("s", "text", use_awaitable);
    auto push = c.lpush("s", "x");
    co_await test::expect_server_error(push, "WRONGTYPE");
    auto range = c.lrange("s", 0, -1);
    co_await test::expect_server_error(range, "WRONGTYPE");
    auto pop = c.lpop("s", 2);
    co_await test::expect_server_error(pop, "WRONGTYPE");
    auto move = c.lmove("s", "d", ListEnd::left, ListEnd::left);
    co_await test::expect_server_error(move, "WRONGTYPE");
  });
}

TEST_F(ListCommandsTest, BlockingPopsTimeOutWithNothingOnALease) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Lease lease = co_await c.lease(use_awaitable);
    EXPECT_EQ(co_await lease.blpop("empty", 50ms, use_awaitable), std::nullopt);
    EXPECT_EQ(co_await lease.brpop("empty", 50ms, use_awaitable), std::nullopt);
    EXPECT_EQ(
        co_await lease.blmove("empty", "d", ListEnd::left, ListEnd::right, 50ms, use_awaitable),
        std::nullopt);
    // What is there is popped at once, from the first non-empty key.
    const Strings values = {"a", "b", "c"};
    co_await c.rpush("full", values, use_awaitable);
    const Strings keys = {"empty", "full"};
    using Popped = std::optional<std::pair<std::string, std::string>>;
    auto r15 = co_await lease.blpop(keys, 1s, use_awaitable);
    EXPECT_EQ(r15, Popped({"full", "a"}));
    auto r16 = co_await lease.brpop(keys, 1s, use_awaitable);
    EXPECT_EQ(r16, Popped({"full", "c"}));
    EXPECT_EQ(co_await lease.blmove("full", "d", ListEnd::left, ListEnd::right, 1s, use_awaitable),
              std::optional<std::string>("b"));
    // The other type's error comes through as well.
    co_await c.set("s", "text", use_awaitable);
    auto pop = lease.blpop("s", 1s);
    co_await test::expect_server_error(pop, "WRONGTYPE");
  });
}

TEST_F(ListCommandsTest, ALeaseViewKeepsTheBlockingCommandsAndItsTimeout) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Lease lease = co_await c.lease(use_awaitable);
    co_await c.rpush("ready", "x", use_awaitable);
    // Timeout 0 waits forever on the server; the view's timeout bounds it on the client.
    auto patient = lease.with_timeout(5s);
    auto popped = co_await patient.blpop("ready", 0ms, use_awaitable);
    CO_ASSERT_TRUE(popped.has_value())
    EXPECT_EQ(popped->second, "x");
    // The view's 100 ms ends a 3 s wait before the server does.
    auto quick = lease.with_timeout(100ms);
    try {
      co_await quick.blpop("empty", 3s, use_awaitable);
      ADD_FAILURE() << "BLPOP outlived the view's timeout";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::timeout));
    }
  });
}

TEST_F(ListCommandsTest, BlockingPopWakesWhenAnElementArrives) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Lease lease = co_await c.lease(use_awaitable);
    std::optional<std::optional<std::pair<std::string, std::string>>> popped;
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          popped = co_await lease.blpop("jobs", 10s, use_awaitable);
        },
        asio::detached);
    // The BLPOP is waiting on the server before the element is pushed.
    CO_ASSERT_TRUE(co_await test::eventually([&] {
      return server_->cli({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
    }))
    co_await c.rpush("jobs", "job", use_awaitable);
    CO_ASSERT_TRUE(co_await test::eventually([&] { return popped.has_value(); }))
    using Popped = std::optional<std::pair<std::string, std::string>>;
    EXPECT_EQ(*popped, Popped({"jobs", "job"}));
  });
}

}  // namespace
}  // namespace asyncredis
