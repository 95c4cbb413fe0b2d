// The services on a cluster client, unchanged: CacheService (get_or_set, del, invalidate by
// namespace and by pattern over every master), cached(), and the RateLimiter's three
// algorithms with their scripts routed to each key's slot. Also reads from replicas
// (read_from), which the services' reads follow.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_suite.hpp"

namespace asyncredis {
namespace {

using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;

using ClusterServices = test::ClusterSuite;

struct Lookup {
  int* calls;
  asio::awaitable<int> operator()(int x) const {
    ++*calls;
    co_return x * 10;
  }
};

TEST_F(ClusterServices, TheCacheAndTheMemoizerWorkOnACluster) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.key_prefix = "svc:";
    CacheService cache(client, options);
    const std::chrono::milliseconds ttl = std::chrono::seconds(30);
    // Keys on every master.
    for (int i = 0; i < 30; ++i) {
      const std::string key = "item:" + std::to_string(i);
      const auto compute = [i]() -> asio::awaitable<int> { co_return i; };
      const int value = co_await cache.get_or_set(key, ttl, compute, use_awaitable);
      EXPECT_EQ(value, i);
    }
    const auto read = co_await cache.get<int>("item:7", use_awaitable);
    EXPECT_EQ(read, 7);
    const auto removed = co_await cache.delete_pattern("item:1*", use_awaitable);
    EXPECT_EQ(removed, 11u);  // item:1, item:10 .. item:19
    const auto gone = co_await cache.get<int>("item:12", use_awaitable);
    EXPECT_FALSE(gone.has_value());

    int calls = 0;
    auto times_ten = cached(cache, "ten", ttl, Lookup{&calls});
    for (int round = 0; round < 2; ++round) {
      for (int x = 0; x < 20; ++x) {
        const int value = co_await times_ten(x, use_awaitable);
        EXPECT_EQ(value, x * 10);
      }
    }
    EXPECT_EQ(calls, 20);  // the second round was answered by Redis, across the masters
    co_await times_ten.invalidate(3, use_awaitable);
    const int again = co_await times_ten(3, use_awaitable);
    EXPECT_EQ(again, 30);
    EXPECT_EQ(calls, 21);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterServices, EveryRateLimitAlgorithmWorksOnACluster) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    const std::map<std::string, RateLimitStrategy> strategies = {
        {"fixed", RateLimitStrategy::fixed_window},
        {"sliding", RateLimitStrategy::sliding_window},
        {"gcra", RateLimitStrategy::gcra}};
    for (const auto& [name, strategy] : strategies) {
      RateLimiterOptions options;
      options.strategy = strategy;
      RateLimiter limiter(client, options);
      const RateLimit rate{.limit = 2, .window = std::chrono::seconds(10)};
      // Several users, so the scripts run on several masters.
      for (int user = 0; user < 6; ++user) {
        const std::string key = name + ":user" + std::to_string(user);
        const auto first = co_await limiter.check(key, rate, 1, use_awaitable);
        const auto second = co_await limiter.check(key, rate, 1, use_awaitable);
        const auto third = co_await limiter.check(key, rate, 1, use_awaitable);
        EXPECT_TRUE(first.allowed) << key;
        EXPECT_TRUE(second.allowed) << key;
        EXPECT_FALSE(third.allowed) << key;  // fail-open would have allowed it
      }
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterServices, ReadsGoToTheReplicasWithReadFromReplica) {
  RedisSettings settings = cluster_->client_settings();
  settings.cluster.read_from = ReadFrom::replica;
  const std::string key = "replicated:key";
  const std::uint16_t master = cluster_->master_of(detail::slot_of(key));
  // GETs counted by each node's command statistics.
  const auto gets_on = [&](std::uint16_t port) {
    const std::string stats = cluster_->node_on(port).cli({"INFO", "commandstats"});
    const auto at = stats.find("cmdstat_get:calls=");
    return at == std::string::npos ? 0L : std::stol(stats.substr(at + 18));
  };
  std::map<std::uint16_t, long> before;
  for (std::size_t i = 0; i < cluster_->size(); ++i) {
    before[cluster_->node(i).port()] = gets_on(cluster_->node(i).port());
  }
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set(key, "v", use_awaitable);  // a write still goes to the master
    std::optional<std::string> read;
    for (int i = 0; i < 2000 && read != "v"; ++i) read = co_await client.get(key, use_awaitable);
    EXPECT_EQ(read, "v");
    co_await client.disconnect(use_awaitable);
  });
  EXPECT_EQ(gets_on(master), before[master]);  // no read reached the master
  long replica_gets = 0;
  for (const auto& [port, count] : before) {
    if (port != master) replica_gets += gets_on(port) - count;
  }
  EXPECT_GT(replica_gets, 0);
}

TEST_F(ClusterServices, ASubscriberHearsWhatIsPublishedOnAnyMaster) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    try {
      Subscriber early(client);
      ADD_FAILURE() << "a cluster Subscriber was made before connect()";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::not_connected);
    }
    co_await client.connect(use_awaitable);
    Subscriber subscriber(client);
    co_await subscriber.subscribe("cluster-news", use_awaitable);
    // PUBLISH is keyless: it goes to a master taken in turn, and the cluster bus carries it.
    for (int i = 0; i < 3; ++i) {
      const std::string text = "hello " + std::to_string(i);
      co_await client.publish("cluster-news", text, use_awaitable);
    }
    // Published on different masters, they may arrive in any order.
    std::set<std::string> heard;
    for (int i = 0; i < 3; ++i) {
      const auto message = co_await subscriber.receive(use_awaitable);
      CO_ASSERT_TRUE(message.has_value());
      EXPECT_EQ(message->channel, "cluster-news");
      heard.insert(message->payload);
    }
    EXPECT_EQ(heard, (std::set<std::string>{"hello 0", "hello 1", "hello 2"}));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
