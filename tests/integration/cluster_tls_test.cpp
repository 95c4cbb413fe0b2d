// A cluster client over TLS: a cluster whose nodes talk TLS to clients, to each other (the
// bus) and to their replicas, which announce their TLS ports to TLS clients. The client
// learns the map from one TLS seed, and every node connection it opens is TLS: commands on
// every master, a split MGET, a lease on a slot's master, and shard channels.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_keys.hpp"
#include "support/local_cluster.hpp"
#include "support/subscriber_wait.hpp"
#include "support/tls_certs.hpp"

namespace asyncredis {
namespace {

using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

class ClusterTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new test::TlsCerts();
    test::LocalClusterOptions options;
    options.tls = certs_;
    cluster_ = new test::LocalCluster(options);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    delete certs_;
    cluster_ = nullptr;
    certs_ = nullptr;
  }
  // A key named `prefix`N on each master now.
  static std::vector<std::string> key_per_master(const std::string& prefix) {
    std::vector<std::string> keys;
    for (std::uint16_t port : cluster_->master_ports())
      keys.push_back(test::key_on(*cluster_, port, prefix));
    return keys;
  }
  static std::set<std::string> tls_ports() {
    std::set<std::string> ports;
    for (std::size_t i = 0; i < cluster_->size(); ++i) {
      ports.insert(std::to_string(cluster_->tls_port(i)));
    }
    return ports;
  }

  static inline test::TlsCerts* certs_ = nullptr;
  static inline test::LocalCluster* cluster_ = nullptr;
};

TEST_F(ClusterTls, EveryNodeIsReachedOverTls) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    const std::vector<std::string> keys = key_per_master("tls:");
    for (const std::string& key : keys) co_await client.set(key, "v:" + key, use_awaitable);
    const auto values = co_await client.mget(keys, use_awaitable);  // split per node
    CO_ASSERT_EQ(values.size(), keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(values[i], "v:" + keys[i]);
    // A lease on each key's master: the node it reached is a TLS port of the cluster's.
    const std::set<std::string> ports = tls_ports();
    for (const std::string& key : keys) {
      Lease lease = co_await client.lease_for(key, use_awaitable);
      const auto config = co_await lease.command<std::vector<std::string>>(
          "CONFIG", "GET", "tls-port", use_awaitable);
      CO_ASSERT_EQ(config.size(), 2u);
      EXPECT_TRUE(ports.contains(config[1])) << config[1];
      EXPECT_EQ(co_await lease.get(key, use_awaitable), "v:" + key);
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterTls, ShardChannelsAndTrackingOverTls) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    const std::vector<std::string> channels = key_per_master("news:");
    co_await sub.ssubscribe(channels, use_awaitable);
    for (const std::string& channel : channels) {
      EXPECT_EQ(co_await client.command<std::int64_t>("SPUBLISH", channel, "hi", use_awaitable), 1);
    }
    std::set<std::string> heard;
    for (std::size_t i = 0; i < channels.size(); ++i) {
      const auto m = co_await test::next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      heard.insert(m->channel);
    }
    EXPECT_EQ(heard, std::set<std::string>(channels.begin(), channels.end()));
    // Each node's invalidation connection is TLS too.
    ClientTracking tracking(client, {}, [](const TrackingEvent&) {});
    CO_ASSERT_TRUE(co_await test::eventually([&] { return tracking.active(); }));
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
