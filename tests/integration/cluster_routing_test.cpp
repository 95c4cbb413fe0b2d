// A cluster client on a local 6-node cluster: every command reaches the master of its keys'
// slot, multi-key commands across slots are split and merged in the caller's order, pipelines
// come back in order, commands for every shard are merged as the server's tips say, and what
// needs one slot (transactions, scripts) is refused before anything is sent when it has more.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_suite.hpp"

namespace asyncredis {
namespace {

using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;

class ClusterRouting : public test::ClusterSuite {
 protected:
  // The value `key` holds on the master its slot names, read there directly.
  static std::string stored(const std::string& key) {
    return cluster_->node_on(cluster_->master_of(detail::slot_of(key))).cli({"GET", key});
  }
};

// Keys spread over the three masters: the first `count` keys "prefix:i".
std::vector<std::string> keys(const std::string& prefix, int count) {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(prefix + ":" + std::to_string(i));
  return out;
}

TEST_F(ClusterRouting, EveryKeyGoesToTheMasterOfItsSlot) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    for (const auto& key : keys("route", 60)) {
      const std::string value = "v-" + key;
      co_await client.set(key, value, use_awaitable);
    }
    for (const auto& key : keys("route", 60)) {
      EXPECT_EQ(stored(key), "v-" + key);
      const auto value = co_await client.get(key, use_awaitable);
      EXPECT_EQ(value, "v-" + key);
    }
    // The generic path routes by the server's key positions too.
    const std::string hash_key = "route:hash";
    co_await client.command<std::int64_t>("HSET", hash_key, "field", "value", use_awaitable);
    const auto field =
        co_await client.command<std::string>("HGET", hash_key, "field", use_awaitable);
    EXPECT_EQ(field, "value");
    EXPECT_EQ(cluster_->node_on(cluster_->master_of(detail::slot_of(hash_key)))
                  .cli({"HGET", hash_key, "field"}),
              "value");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, MultiKeyCommandsAcrossSlotsAreSplitAndMergedInOrder) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    const auto names = keys("multi", 40);
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& key : names) pairs.emplace_back(key, "value of " + key);
    co_await client.mset(pairs, use_awaitable);
    for (const auto& key : names) EXPECT_EQ(stored(key), "value of " + key);

    std::vector<std::string> asked = names;
    asked.insert(asked.begin() + 7, "multi:missing");
    const auto values = co_await client.mget(asked, use_awaitable);
    CO_ASSERT_EQ(values.size(), asked.size());
    for (std::size_t i = 0; i < asked.size(); ++i) {
      if (asked[i] == "multi:missing") {
        EXPECT_FALSE(values[i].has_value());
      } else {
        EXPECT_EQ(values[i], "value of " + asked[i]) << i;
      }
    }
    const auto existing = co_await client.exists(asked, use_awaitable);
    EXPECT_EQ(existing, 40);
    const std::vector<std::string> touched(names.begin(), names.begin() + 10);
    const auto touch_count = co_await client.command<std::int64_t>("TOUCH", touched, use_awaitable);
    EXPECT_EQ(touch_count, 10);
    const std::vector<std::string> unlinked(names.begin(), names.begin() + 5);
    const auto unlink_count = co_await client.unlink(unlinked, use_awaitable);
    EXPECT_EQ(unlink_count, 5);
    const auto deleted = co_await client.del(asked, use_awaitable);
    EXPECT_EQ(deleted, 35);
    const auto left = co_await client.exists(names, use_awaitable);
    EXPECT_EQ(left, 0);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, ATenThousandCommandPipelineComesBackInOrder) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    Pipeline pipeline;
    for (int i = 0; i < 5000; ++i) {
      const std::string key = "pipe:" + std::to_string(i);
      pipeline.add("SET", key, i);
      pipeline.add("INCR", key);
    }
    const auto replies = co_await client.execute(pipeline, use_awaitable);
    CO_ASSERT_EQ(replies.size(), 10000u);
    for (int i = 0; i < 5000; ++i) {
      EXPECT_EQ(replies[2 * i].str(), "OK");
      EXPECT_EQ(replies[2 * i + 1].integer(), i + 1) << i;
    }
    EXPECT_EQ(stored("pipe:4999"), "5000");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, TransactionsAndScriptsNeedOneSlot) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(detail::slot_of("tx:a") != detail::slot_of("tx:b"));
    Pipeline cross;
    cross.add("SET", "tx:a", "1").add("SET", "tx:b", "2");
    try {
      co_await client.transaction(cross, use_awaitable);
      ADD_FAILURE() << "a cross-slot transaction was sent";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::cross_slot);
      EXPECT_NE(e.message().find("tx:a"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("tx:b"), std::string::npos) << e.message();
    }
    EXPECT_EQ(stored("tx:a"), "");  // nothing was sent
    Pipeline tagged;
    tagged.add("SET", "{tx}:a", "1").add("INCR", "{tx}:b").add("GET", "{tx}:a");
    const auto exec = co_await client.transaction(tagged, use_awaitable);
    CO_ASSERT_TRUE(exec.has_value());
    CO_ASSERT_EQ(exec->size(), 3u);
    EXPECT_EQ((*exec)[1].integer(), 1);
    EXPECT_EQ((*exec)[2].str(), "1");

    const Script script("return redis.call('GET', KEYS[1]) .. (redis.call('GET', KEYS[2]) or '')");
    try {
      const std::vector<std::string> two_slots{"tx:a", "tx:b"};
      const std::vector<std::string> no_args;
      co_await client.eval<Reply>(script, two_slots, no_args, use_awaitable);
      ADD_FAILURE() << "a cross-slot script was sent";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::cross_slot) << e.what();
    }
    const std::vector<std::string> one_slot{"{tx}:a", "{tx}:b"};
    const std::vector<std::string> no_args;
    const auto joined = co_await client.eval<std::string>(script, one_slot, no_args, use_awaitable);
    EXPECT_EQ(joined, "11");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, CommandsForEveryShardAreMerged) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    co_await client.command<void>("FLUSHDB", use_awaitable);
    const auto names = keys("shard", 30);
    for (const auto& key : names) co_await client.set(key, "x", use_awaitable);
    const auto size = co_await client.command<std::int64_t>("DBSIZE", use_awaitable);
    EXPECT_EQ(size, 30);
    const auto found =
        co_await client.command<std::vector<std::string>>("KEYS", "shard:*", use_awaitable);
    EXPECT_EQ(found.size(), 30u);
    const auto pong = co_await client.command<std::string>("PING", use_awaitable);
    EXPECT_EQ(pong, "PONG");
    const Script script("return 7");
    const auto sha =
        co_await client.command<std::string>("SCRIPT", "LOAD", script.source(), use_awaitable);
    EXPECT_EQ(sha, script.sha1());
    for (std::size_t i = 0; i < cluster_->size(); ++i) {  // every master has it
      if (cluster_->node(i).cli({"ROLE"}).starts_with("master")) {
        EXPECT_EQ(cluster_->node(i).cli({"SCRIPT", "EXISTS", sha}), "1");
      }
    }
    co_await client.command<void>("FLUSHDB", use_awaitable);
    const auto emptied = co_await client.command<std::int64_t>("DBSIZE", use_awaitable);
    EXPECT_EQ(emptied, 0);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, ScanWalksEveryMasterOnceAndTheCacheDeletesByPattern) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    const auto names = keys("scan", 300);
    for (const auto& key : names) co_await client.set(key, "x", use_awaitable);
    std::multiset<std::string> seen;
    auto it = client.scan({.match = "scan:*", .count = 50});
    while (auto batch = co_await it.next(use_awaitable)) seen.insert(batch->begin(), batch->end());
    EXPECT_EQ(seen, std::multiset<std::string>(names.begin(), names.end()));

    // The cache's pattern deletion walks the cluster with SCAN and UNLINKs across slots.
    CacheService cache(client);
    const std::string cached_key = "page:1";
    const nlohmann::json page = {{"n", 1}};
    co_await cache.set(cached_key, page, use_awaitable);
    const auto removed = co_await cache.delete_pattern("scan:*", use_awaitable);
    EXPECT_EQ(removed, 300u);
    const auto left = co_await client.exists(names, use_awaitable);
    EXPECT_EQ(left, 0);
    const auto kept = co_await cache.get<nlohmann::json>(cached_key, use_awaitable);
    EXPECT_TRUE(kept.has_value());
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, ClearErrorsForWhatAClusterCannotDo) {
  RedisSettings with_db = cluster_->client_settings();
  try {
    asio::io_context io;
    RedisClient client(io.get_executor(), with_db, 3);
    ADD_FAILURE() << "db 3 was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_setting);
    EXPECT_NE(e.message().find("only database 0"), std::string::npos) << e.message();
  }
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    try {
      co_await client.get("before-connect", use_awaitable);
      ADD_FAILURE() << "a request went out before connect()";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::not_connected);
    }
    co_await client.connect(use_awaitable);
    try {
      co_await client.lease(use_awaitable);
      ADD_FAILURE() << "a cluster client handed out a lease for no key";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterRouting, ASeedThatIsNotAClusterNodeIsASettingError) {
  test::RedisServer plain;
  RedisSettings settings = plain.settings();
  settings.cluster_nodes = {ClusterNode{settings.host, settings.port}};
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings);
    try {
      co_await client.connect(use_awaitable);
      ADD_FAILURE() << "connected to a server without cluster mode";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_setting);
      EXPECT_NE(e.message().find("not in cluster mode"), std::string::npos) << e.message();
    }
  });
}

}  // namespace
}  // namespace asyncredis
