// Every typed command, the generic path, pipelines, transactions, scripts, SCAN and JSON,
// against a real redis-server.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

struct User {
  std::string name;
  int age = 0;
  friend void to_json(nlohmann::json& j, const User& u) { j = {{"name", u.name}, {"age", u.age}}; }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("name").get_to(u.name);
    j.at("age").get_to(u.age);
  }
};

class Commands : public test::SharedServerTest {
 protected:
  // Runs body with a connected client.
  void with_client(std::function<asio::awaitable<void>(RedisClient&)> body,
                   RedisSettings settings = server_->settings()) {
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      RedisClient client(io.get_executor(), settings);
      co_await client.connect(use_awaitable);
      co_await body(client);
      co_await client.disconnect(use_awaitable);
    });
  }
};

template <class F>
errc error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return static_cast<errc>(e.code().value());
  }
  return errc{};
}

TEST_F(Commands, StringsRoundTrip) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.get("missing", use_awaitable), std::nullopt);
    EXPECT_TRUE(co_await c.set("k", "v", use_awaitable));
    EXPECT_EQ(co_await c.get("k", use_awaitable), std::optional<std::string>("v"));
    EXPECT_TRUE(co_await c.set("n", 41, use_awaitable));
    EXPECT_EQ(co_await c.incr("n", use_awaitable), 42);
    EXPECT_EQ(co_await c.incrby("n", -2, use_awaitable), 40);
    EXPECT_TRUE(co_await c.set("d", 2.5, use_awaitable));
    EXPECT_EQ(co_await c.command<double>("GET", "d", use_awaitable), 2.5);
    // binary-safe, and an empty string is a value, not a miss
    const std::string binary("a\0b\r\nc", 6);
    co_await c.set("bin", binary, use_awaitable);
    EXPECT_EQ(co_await c.get("bin", use_awaitable), std::optional<std::string>(binary));
    co_await c.set("empty", "", use_awaitable);
    EXPECT_EQ(co_await c.get("empty", use_awaitable), std::optional<std::string>(""));
    EXPECT_EQ(co_await c.getdel("k", use_awaitable), std::optional<std::string>("v"));
    EXPECT_EQ(co_await c.getdel("k", use_awaitable), std::nullopt);
  });
}

TEST_F(Commands, SetOptions) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    using Cond = SetOptions::Condition;
    EXPECT_FALSE(co_await c.set("k", "x", SetOptions{.condition = Cond::if_exists}, use_awaitable));
    EXPECT_TRUE(
        co_await c.set("k", "1", SetOptions{.condition = Cond::if_not_exists}, use_awaitable));
    EXPECT_FALSE(
        co_await c.set("k", "2", SetOptions{.condition = Cond::if_not_exists}, use_awaitable));
    EXPECT_EQ(co_await c.get("k", use_awaitable), std::optional<std::string>("1"));
    co_await c.set("k", "3", SetOptions{.ttl = 100s}, use_awaitable);
    auto ttl = co_await c.ttl("k", use_awaitable);
    EXPECT_GT(ttl, 90);
    EXPECT_LE(ttl, 100);
    co_await c.set("k", "4", SetOptions{.ttl = 1500ms}, use_awaitable);
    auto pttl = co_await c.pttl("k", use_awaitable);
    EXPECT_GT(pttl, 1000);
    EXPECT_LE(pttl, 1500);
    co_await c.set("k", "5", SetOptions{.keep_ttl = true}, use_awaitable);
    EXPECT_GT(co_await c.pttl("k", use_awaitable), 0);
    EXPECT_TRUE(co_await c.set("k", "6", SetOptions{.condition = Cond::if_exists}, use_awaitable));
    EXPECT_EQ(co_await c.ttl("k", use_awaitable), -1) << "a plain SET clears the TTL";
    EXPECT_EQ(co_await c.ttl("nokey", use_awaitable), -2);
    EXPECT_EQ(error_of([&] { (void)c.set("k", "v", SetOptions{.ttl = 1s, .keep_ttl = true}); }),
              errc::invalid_argument);
    EXPECT_EQ(error_of([&] { (void)c.set("k", "v", SetOptions{.ttl = -1s}); }),
              errc::invalid_argument);
  });
}

TEST_F(Commands, KeysAndExpiry) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    std::map<std::string, std::string> pairs{{"a", "1"}, {"b", "2"}, {"c", "3"}};
    co_await c.mset(pairs, use_awaitable);
    std::vector<std::string> keys{"a", "missing", "c"};
    auto values = co_await c.mget(keys, use_awaitable);
    CO_ASSERT_EQ(values.size(), 3u)
    EXPECT_EQ(values[0], std::optional<std::string>("1"));
    EXPECT_EQ(values[1], std::nullopt);
    EXPECT_EQ(values[2], std::optional<std::string>("3"));
    EXPECT_EQ(co_await c.exists(keys, use_awaitable), 2);
    EXPECT_EQ(co_await c.exists("a", use_awaitable), 1);
    EXPECT_TRUE(co_await c.expire("a", 50s, use_awaitable));
    EXPECT_FALSE(co_await c.expire("missing", 50s, use_awaitable));
    EXPECT_GT(co_await c.ttl("a", use_awaitable), 40);
    EXPECT_TRUE(co_await c.pexpire("b", 5000ms, use_awaitable));
    EXPECT_GT(co_await c.pttl("b", use_awaitable), 4000);
    auto at = std::chrono::system_clock::now() + 30s;
    EXPECT_TRUE(co_await c.pexpireat("c", at, use_awaitable));
    auto pttl = co_await c.pttl("c", use_awaitable);
    EXPECT_GT(pttl, 25000);
    EXPECT_LE(pttl, 30000);
    EXPECT_EQ(co_await c.del("a", use_awaitable), 1);
    std::vector<std::string> rest{"b", "c", "zzz"};
    EXPECT_EQ(co_await c.unlink(rest, use_awaitable), 2);
    EXPECT_EQ(co_await c.exists(rest, use_awaitable), 0);
  });
}

TEST_F(Commands, Hashes) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.hset("h", "f", "v", use_awaitable), 1);
    EXPECT_EQ(co_await c.hset("h", "f", "w", use_awaitable), 0);
    std::map<std::string, int> more{{"x", 1}, {"y", 2}};
    EXPECT_EQ(co_await c.hset("h", more, use_awaitable), 2);
    EXPECT_EQ(co_await c.hget("h", "f", use_awaitable), std::optional<std::string>("w"));
    EXPECT_EQ(co_await c.hget("h", "nope", use_awaitable), std::nullopt);
    auto all = co_await c.hgetall("h", use_awaitable);
    EXPECT_EQ(all.size(), 3u);
    EXPECT_EQ(all["y"], "2");
    std::vector<std::string> fields{"x", "y", "nope"};
    EXPECT_EQ(co_await c.hdel("h", fields, use_awaitable), 2);
    EXPECT_EQ(co_await c.hdel("h", "f", use_awaitable), 1);
    EXPECT_TRUE((co_await c.hgetall("h", use_awaitable)).empty());
  });
}

TEST_F(Commands, SetsAndSortedSets) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    std::vector<std::string> members{"a", "b", "c"};
    EXPECT_EQ(co_await c.sadd("s", members, use_awaitable), 3);
    EXPECT_EQ(co_await c.sadd("s", "a", use_awaitable), 0);
    EXPECT_EQ(co_await c.srem("s", "b", use_awaitable), 1);
    auto got = co_await c.smembers("s", use_awaitable);
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), (std::set<std::string>{"a", "c"}));

    EXPECT_EQ(co_await c.zadd("z", 1.0, "one", use_awaitable), 1);
    std::vector<std::pair<double, std::string>> scored{{2.0, "two"}, {3.5, "three"}};
    EXPECT_EQ(co_await c.zadd("z", scored, use_awaitable), 2);
    auto range = co_await c.zrangebyscore("z", 1.5, "+inf", use_awaitable);
    EXPECT_EQ(range, (std::vector<std::string>{"two", "three"}));
    auto open = co_await c.zrangebyscore("z", "(1", 2, use_awaitable);
    EXPECT_EQ(open, (std::vector<std::string>{"two"}));
    EXPECT_EQ(co_await c.zremrangebyscore("z", "-inf", 2.0, use_awaitable), 2);
    EXPECT_EQ(co_await c.zrem("z", "three", use_awaitable), 1);
    EXPECT_EQ(co_await c.zrem("z", "three", use_awaitable), 0);
  });
}

TEST_F(Commands, ServerCommands) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.ping(use_awaitable), "PONG");
    EXPECT_EQ(co_await c.publish("chan", "hello", use_awaitable), 0);
    auto server_time = co_await c.time(use_awaitable);
    auto skew = server_time - std::chrono::system_clock::now();
    EXPECT_LT(std::chrono::abs(skew), 5s);
  });
}

TEST_F(Commands, ServerErrorsKeepTheirText) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.sadd("aset", "x", use_awaitable);
    try {
      co_await c.get("aset", use_awaitable);
      ADD_FAILURE() << "GET of a set succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error));
      EXPECT_TRUE(e.message().starts_with("WRONGTYPE")) << e.message();
    }
    // The raw reply keeps the error as a value.
    Reply raw = co_await c.command("GET", "aset", use_awaitable);
    EXPECT_TRUE(raw.is_error());
    try {
      co_await c.command<std::int64_t>("NOSUCHCOMMAND", use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error));
    }
    // A type mismatch on our side is unexpected_type, and the connection stays usable.
    co_await c.set("s", "text", use_awaitable);
    try {
      co_await c.command<std::int64_t>("GET", "s", use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::unexpected_type));
    }
    EXPECT_EQ(co_await c.ping(use_awaitable), "PONG");
  });
}

TEST_F(Commands, GenericCommandConvertsToAnyType) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.command<void>("RPUSH", "list", "a", "b", "c", use_awaitable);
    auto all = co_await c.command<std::vector<std::string>>("LRANGE", "list", 0, -1, use_awaitable);
    EXPECT_EQ(all, (std::vector<std::string>{"a", "b", "c"}));
    auto len = co_await c.command<int>("LLEN", "list", use_awaitable);
    EXPECT_EQ(len, 3);
    auto popped = co_await c.command<std::optional<std::string>>("LPOP", "none", use_awaitable);
    EXPECT_EQ(popped, std::nullopt);
  });
}

TEST_F(Commands, PipelineOneReplyEachInOrder) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Pipeline p;
    p.add("SET", "p", 1).add("INCR", "p").add("HGET", "p", "f").add("GET", "p");
    auto replies = co_await c.execute(p, use_awaitable);
    CO_ASSERT_EQ(replies.size(), 4u)
    EXPECT_EQ(replies[0].as<std::string>(), "OK");
    EXPECT_EQ(replies[1].as<int>(), 2);
    EXPECT_TRUE(replies[2].is_error()) << "WRONGTYPE stays an element";
    EXPECT_EQ(replies[3].as<std::string>(), "2");
  });
}

TEST_F(Commands, TransactionAppliesAtomically) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Pipeline p;
    p.add("SET", "t", 10).add("INCRBY", "t", 5).add("GET", "t");
    auto result = co_await c.transaction(p, use_awaitable);
    CO_ASSERT_TRUE(result.has_value())
    CO_ASSERT_EQ(result->size(), 3u)
    EXPECT_EQ((*result)[1].as<int>(), 15);
    EXPECT_EQ((*result)[2].as<std::string>(), "15");
    Pipeline bad;
    bad.add("SET", "t", 1).add("NOSUCHCOMMAND");
    try {
      co_await c.transaction(bad, use_awaitable);
      ADD_FAILURE() << "EXECABORT expected";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error));
      EXPECT_TRUE(e.message().starts_with("EXECABORT")) << e.message();
    }
    EXPECT_EQ(co_await c.get("t", use_awaitable), std::optional<std::string>("15"));
  });
}

TEST_F(Commands, WatchedTransactionAbortsWhenTheKeyChanges) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("w", 1, use_awaitable);
    Lease lease = co_await c.lease(use_awaitable);
    co_await lease.command<void>("WATCH", "w", use_awaitable);
    auto value = co_await lease.get("w", use_awaitable);
    EXPECT_EQ(value, std::optional<std::string>("1"));
    co_await c.set("w", 100, use_awaitable);  // another connection changes it
    Pipeline p;
    p.add("SET", "w", 2);
    auto aborted = co_await lease.transaction(p, use_awaitable);
    EXPECT_FALSE(aborted.has_value());
    EXPECT_EQ(co_await c.get("w", use_awaitable), std::optional<std::string>("100"));

    co_await lease.command<void>("WATCH", "w", use_awaitable);
    auto applied = co_await lease.transaction(p, use_awaitable);
    EXPECT_TRUE(applied.has_value());
    EXPECT_EQ(co_await c.get("w", use_awaitable), std::optional<std::string>("2"));
    EXPECT_EQ(c.stats().leases, 1u);
    lease.release();
    EXPECT_EQ(c.stats().leases, 0u);
  });
}

TEST_F(Commands, LeaseIsResetBeforeReuse) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    {
      Lease lease = co_await c.lease(use_awaitable);
      co_await lease.command<void>("WATCH", "r", use_awaitable);
      co_await lease.command<void>("MULTI", use_awaitable);
    }  // released mid-transaction
    co_await c.set("r", 1, use_awaitable);
    Lease again = co_await c.lease(use_awaitable);
    Pipeline p;
    p.add("INCR", "r");
    auto result = co_await again.transaction(p, use_awaitable);
    CO_ASSERT_TRUE(result.has_value())
    EXPECT_EQ((*result)[0].as<int>(), 2);
  });
}

TEST_F(Commands, ScriptsUseEvalshaAndFallBackOnlyOnNoscript) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.command<void>("SCRIPT", "FLUSH", use_awaitable);
    co_await c.command<void>("CONFIG", "RESETSTAT", use_awaitable);
    Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    EXPECT_EQ(add.sha1().size(), 40u);
    EXPECT_EQ(co_await c.eval<std::int64_t>(add, "counter", 5, use_awaitable), 5);
    EXPECT_EQ(co_await c.eval<std::int64_t>(add, "counter", 7, use_awaitable), 12);
    auto stats = co_await c.command<std::string>("INFO", "commandstats", use_awaitable);
    EXPECT_NE(stats.find("cmdstat_eval:calls=1,"), std::string::npos) << stats;
    EXPECT_NE(stats.find("cmdstat_evalsha:calls=2,"), std::string::npos) << stats;

    Script failing("return redis.error_reply('custom failure')");
    try {
      co_await c.eval<std::int64_t>(failing, std::vector<std::string>{}, 0, use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error));
      EXPECT_NE(e.message().find("custom failure"), std::string::npos);
    }
    // The failing script is loaded once (NOSCRIPT) and run once more by EVALSHA: it must not
    // be retried with EVAL after its own error.
    try {
      co_await c.eval<std::int64_t>(failing, std::vector<std::string>{}, 0, use_awaitable);
    } catch (const Error&) {
    }
    stats = co_await c.command<std::string>("INFO", "commandstats", use_awaitable);
    EXPECT_NE(stats.find("cmdstat_eval:calls=2,"), std::string::npos) << stats;
  });
}

TEST_F(Commands, ScanVisitsEveryKeyWithoutKeys) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Pipeline p;
    for (int i = 0; i < 500; ++i) p.add("SET", "scan:" + std::to_string(i), i);
    p.add("SET", "other", 1).add("SET", "scan*literal", 1);
    co_await c.execute(p, use_awaitable);
    std::set<std::string> seen;
    auto it = c.scan({.match = "scan:*", .count = 50});
    int pages = 0;
    while (auto keys = co_await it.next(use_awaitable)) {
      ++pages;
      seen.insert(keys->begin(), keys->end());
    }
    EXPECT_TRUE(it.done());
    EXPECT_EQ(seen.size(), 500u);
    EXPECT_GT(pages, 1);
    EXPECT_EQ(co_await it.next(use_awaitable), std::nullopt) << "stays finished";
    auto literal = c.scan({.match = escape_glob("scan*") + "*"});
    std::set<std::string> only;
    while (auto keys = co_await literal.next(use_awaitable))
      only.insert(keys->begin(), keys->end());
    EXPECT_EQ(only, (std::set<std::string>{"scan*literal"}));
    auto typed = c.scan({.match = "other", .type = "hash"});
    std::size_t hashes = 0;
    while (auto keys = co_await typed.next(use_awaitable)) hashes += keys->size();
    EXPECT_EQ(hashes, 0u);
  });
}

TEST_F(Commands, JsonValues) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    nlohmann::json doc = {{"a", 1}, {"b", {1, 2, 3}}};
    EXPECT_TRUE(co_await c.set_json("j", doc, {}, use_awaitable));
    EXPECT_EQ(co_await c.get_json("j", use_awaitable), std::optional<nlohmann::json>(doc));
    const User ann{"ann", 31};  // named: GCC 12 destroys temporaries in co_await twice
    co_await c.set_json("u", ann, SetOptions{.ttl = 60s}, use_awaitable);
    auto user = co_await c.get_json<User>("u", use_awaitable);
    CO_ASSERT_TRUE(user)
    EXPECT_EQ(user->name, "ann");
    EXPECT_EQ(user->age, 31);
    EXPECT_GT(co_await c.ttl("u", use_awaitable), 0);
    EXPECT_EQ(co_await c.get_json("none", use_awaitable), std::nullopt);
    co_await c.set("broken", "{not json", use_awaitable);
    try {
      co_await c.get_json("broken", use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::decode_error));
      EXPECT_NE(e.message().find("broken"), std::string::npos) << "names the key";
    }
    co_await c.set("empty", "", use_awaitable);
    try {  // an empty string is a value (that is not JSON), not a miss
      co_await c.get_json("empty", use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::decode_error));
    }
    try {
      co_await c.get_json<User>("j", use_awaitable);
      ADD_FAILURE();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::decode_error));
    }
  });
}

// Runs body on this thread with a connected client whose io_context runs on another one, so
// the body may block on futures.
void with_threaded_client(const RedisSettings& settings,
                          const std::function<void(RedisClient&)>& body) {
  asio::io_context io;
  RedisClient client(io.get_executor(), settings);
  std::thread runner;
  {
    auto guard = asio::make_work_guard(io);
    runner = std::thread([&] { io.run(); });
    client.connect(asio::use_future).get();
    body(client);
    client.disconnect(asio::use_future).get();
  }
  runner.join();
}

TEST_F(Commands, EveryCompletionTokenWorks) {
  with_threaded_client(server_->settings(), [](RedisClient& client) {
    // futures
    EXPECT_TRUE(client.set("tok", "f", asio::use_future).get());
    EXPECT_EQ(client.get("tok", asio::use_future).get(), std::optional<std::string>("f"));
    // callbacks
    std::promise<std::optional<std::string>> promise;
    client.get("tok", [&](std::exception_ptr error, std::optional<std::string> value) {
      EXPECT_FALSE(error);
      promise.set_value(value);
    });
    EXPECT_EQ(promise.get_future().get(), std::optional<std::string>("f"));
    // deferred, launched later with a token
    auto op = client.incr("counter");
    EXPECT_EQ(std::move(op)(asio::use_future).get(), 1);
    // errors through futures are asyncredis::Error
    client.sadd("set", "x", asio::use_future).get();
    auto failing = client.get("set", asio::use_future);
    EXPECT_THROW(failing.get(), Error);
  });
}

TEST_F(Commands, ViewWithAnotherDefaultTokenSharesConnectionAndOptions) {
  with_threaded_client(server_->settings(), [](RedisClient& client) {
    // Calls without a token return futures; the connection is the client's.
    const BasicCommands<asio::use_future_t<>> futures(
        static_cast<const asyncredis::Commands&>(client));
    EXPECT_TRUE(futures.set("view", "v").get());
    EXPECT_EQ(client.get("view", asio::use_future).get(), std::optional<std::string>("v"));
    EXPECT_EQ(futures.command<std::string>("GET", "view").get(), "v");
    // The CallOptions come along: a 100 ms timeout ends a BLPOP that would wait 5 s.
    Lease lease = client.lease(asio::use_future).get();
    const BasicCommands<asio::use_future_t<>> quick(lease.with_timeout(100ms));
    auto blocked = quick.command<Reply>("BLPOP", "nothing", 5);
    try {
      blocked.get();
      ADD_FAILURE() << "BLPOP did not time out";
    } catch (const Error& e) {
      EXPECT_EQ(static_cast<errc>(e.code().value()), errc::timeout);
    }
    lease.release();
  });
}

}  // namespace
}  // namespace asyncredis
