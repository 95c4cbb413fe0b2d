// RedisClient over Sentinel: finding the master, passwords for the sentinels and for the data
// nodes, a sentinel down, all of them down, a wrong service name, reads from the replicas.
// One cluster (1 master, 2 replicas, 3 sentinels, all with passwords) for the whole suite;
// nothing here changes which node is the master.
#include <gtest/gtest.h>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/sentinel_load.hpp"

namespace asyncredis {
namespace {

using test::connect_error;
using test::first_word;
using test::run_async;
using test::SentinelCluster;
namespace asio = boost::asio;
using asio::use_awaitable;

class SentinelDiscovery : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::SentinelClusterOptions options;
    options.password = "data-secret";
    options.sentinel_password = "sentinel-secret";
    cluster_ = new SentinelCluster(options);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static inline SentinelCluster* cluster_ = nullptr;
};

TEST_F(SentinelDiscovery, FindsTheMasterAndAuthenticatesToSentinelsAndDataNodes) {
  const std::string master_port = std::to_string(cluster_->master_port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->settings());
    co_await client.connect(use_awaitable);
    co_await client.set("discovery", "found", {}, use_awaitable);
    const auto value = co_await client.get("discovery", use_awaitable);
    EXPECT_EQ(value, "found");
    const Reply role = co_await client.command<Reply>("ROLE", use_awaitable);
    EXPECT_EQ(first_word(role), "master");
    const Reply port = co_await client.command<Reply>("CONFIG", "GET", "port", use_awaitable);
    CO_ASSERT_EQ(port.elements().size(), 2u);
    EXPECT_EQ(port.elements()[1].str(), master_port);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SentinelDiscovery, LeasesAndSubscribersFindTheMasterToo) {
  const std::string master_port = std::to_string(cluster_->master_port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->settings());
    co_await client.connect(use_awaitable);
    Lease lease = co_await client.lease(use_awaitable);
    const Reply port = co_await lease.command<Reply>("CONFIG", "GET", "port", use_awaitable);
    EXPECT_EQ(port.elements().at(1).str(), master_port);
    Subscriber sub(client);
    co_await sub.subscribe("sentinel-news", use_awaitable);
    const auto receivers = co_await client.publish("sentinel-news", "hello", use_awaitable);
    EXPECT_EQ(receivers, 1);
    const auto message = co_await sub.receive(use_awaitable);
    CO_ASSERT_TRUE(message.has_value());
    EXPECT_EQ(message->payload, "hello");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SentinelDiscovery, AWrongSentinelPasswordFailsNamingTheSentinels) {
  RedisSettings settings = cluster_->settings();
  settings.sentinel.password = "wrong";
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::not_connected)) << message;
  EXPECT_NE(message.find("WRONGPASS"), std::string::npos) << message;
  const std::string first = "127.0.0.1:" + std::to_string(cluster_->sentinel_port(0));
  EXPECT_NE(message.find(first), std::string::npos) << message;
}

TEST_F(SentinelDiscovery, AWrongDataNodePasswordIsAuthFailed) {
  RedisSettings settings = cluster_->settings();
  settings.password = "wrong";
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::auth_failed)) << message;
}

TEST_F(SentinelDiscovery, ASentinelDownIsPassedOver) {
  RedisSettings settings = cluster_->settings();
  const SentinelAddress dead{"127.0.0.1", test::free_port()};
  settings.sentinel.sentinels.insert(settings.sentinel.sentinels.begin(), dead);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    const auto pong = co_await client.command<std::string>("PING", use_awaitable);
    EXPECT_EQ(pong, "PONG");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SentinelDiscovery, AllSentinelsDownIsAnErrorNamingEach) {
  RedisSettings settings = cluster_->settings();
  settings.sentinel.sentinels.clear();
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) {
    const SentinelAddress dead{"127.0.0.1", test::free_port()};
    settings.sentinel.sentinels.push_back(dead);
    names.push_back("127.0.0.1:" + std::to_string(dead.port));
  }
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::not_connected)) << message;
  EXPECT_NE(message.find("mymaster"), std::string::npos) << message;
  for (const auto& name : names) EXPECT_NE(message.find(name), std::string::npos) << message;
}

TEST_F(SentinelDiscovery, AWrongServiceNameIsAnInvalidSetting) {
  RedisSettings settings = cluster_->settings();
  settings.sentinel.master_name = "no-such-master";
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::invalid_setting)) << message;
  EXPECT_NE(message.find("'no-such-master'"), std::string::npos) << message;
}

// The services see only Commands: over Sentinel they work as over one node, the near cache
// (CLIENT TRACKING on the master's connections) included.
TEST_F(SentinelDiscovery, TheServicesWorkOverSentinel) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->settings());
    co_await client.connect(use_awaitable);

    CacheOptions cache_options;
    cache_options.key_prefix = "svc:";
    cache_options.near_cache.enabled = true;
    CacheService cache(client, cache_options);
    const auto compute = []() -> asio::awaitable<int> { co_return 42; };
    const std::chrono::milliseconds ttl = std::chrono::seconds(30);
    EXPECT_EQ(co_await cache.get_or_set("answer", ttl, compute, use_awaitable), 42);
    const Reply stored = co_await client.command<Reply>("EXISTS", "svc:answer", use_awaitable);
    EXPECT_EQ(stored.integer(), 1);
    // Read until a read is kept (tracking comes on shortly after connect) and served locally.
    for (int i = 0; i < 200 && cache.stats().near_hits == 0; ++i) {
      EXPECT_EQ(co_await cache.get<int>("answer", use_awaitable), 42);
    }
    EXPECT_GT(cache.stats().near_hits, 0u);

    RateLimiter limiter(client);
    const RateLimit rate{.limit = 2, .window = std::chrono::seconds(10)};
    const auto first = co_await limiter.check("svc:limit", rate, 1, use_awaitable);
    const auto second = co_await limiter.check("svc:limit", rate, 1, use_awaitable);
    const auto third = co_await limiter.check("svc:limit", rate, 1, use_awaitable);
    EXPECT_TRUE(first.allowed);
    EXPECT_TRUE(second.allowed);
    EXPECT_FALSE(third.allowed);

    RedisSessionRepository sessions(client);
    const Uuid user = Uuid::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    const std::chrono::milliseconds lifetime = std::chrono::hours(1);
    const Session session = co_await sessions.create(user, lifetime, use_awaitable);
    const auto read = co_await sessions.get(session.id, use_awaitable);
    CO_ASSERT_TRUE(read.has_value());
    EXPECT_EQ(read->user_id, user);
    EXPECT_EQ(co_await sessions.revoke_all(user, use_awaitable), 1u);
    EXPECT_FALSE((co_await sessions.get(session.id, use_awaitable)).has_value());
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SentinelDiscovery, AReplicaClientReadsFromTheReplicas) {
  RedisSettings replica_settings = cluster_->settings();
  replica_settings.sentinel.replicas = true;
  replica_settings.max_connections = 4;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient master(io.get_executor(), cluster_->settings());
    RedisClient replicas(io.get_executor(), replica_settings);
    co_await master.connect(use_awaitable);
    co_await replicas.connect(use_awaitable);
    co_await master.set("replicated", "yes", {}, use_awaitable);
    std::optional<std::string> read;
    for (int i = 0; i < 5000 && read != "yes"; ++i) {
      read = co_await replicas.get("replicated", use_awaitable);
    }
    EXPECT_EQ(read, "yes");
    const Reply role = co_await replicas.command<Reply>("ROLE", use_awaitable);
    EXPECT_EQ(first_word(role), "slave");
    // A write is refused (READONLY) and the replica connections stay where they are.
    try {
      co_await replicas.set("replicated", "no", {}, use_awaitable);
      ADD_FAILURE() << "a replica took a write";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("READONLY"), std::string::npos) << e.message();
    }
    const auto again = co_await replicas.get("replicated", use_awaitable);
    EXPECT_EQ(again, "yes");
    EXPECT_EQ(replicas.stats().reconnects, 0u);
    co_await replicas.disconnect(use_awaitable);
    co_await master.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
