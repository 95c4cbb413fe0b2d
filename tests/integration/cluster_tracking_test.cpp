// ClientTracking on a cluster client: every master's invalidations reach one callback with one
// epoch, sync() covers every node, and after a failover the promoted replica is tracked by
// itself (a `lost`, then `on` again). The near cache works over it unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_keys.hpp"
#include "support/cluster_suite.hpp"
#include "support/near_reads.hpp"
#include "support/tracking_recorder.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using test::eventually;
using test::key_on;
using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;
using Kind = TrackingEvent::Kind;

// GET until the slot's master answers (it may be being replaced), for at most `limit`.
asio::awaitable<bool> read_until_served(RedisClient& client, const std::string& key,
                                        std::chrono::milliseconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      co_await client.get(key, use_awaitable);
      co_return true;
    } catch (const Error&) {
    }
    asio::steady_timer pause(co_await asio::this_coro::executor, 20ms);
    co_await pause.async_wait(use_awaitable);
  }
  co_return false;
}

using ClusterTracking = test::ClusterSuite;

TEST_F(ClusterTracking, EveryMastersInvalidationsComeToOneCallback) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    test::Recorder heard;
    // Made before connect(): the nodes are tracked once the client knows them.
    ClientTracking tracking(client, {}, heard.callback());
    EXPECT_FALSE(tracking.active());
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return tracking.active(); }));
    CO_ASSERT_TRUE(co_await eventually([&] { return heard.count(Kind::on) == 1; }));
    EXPECT_EQ(tracking.redirect_id(), std::nullopt) << "one id per node on a cluster";
    try {
      ClientTracking second(client, {}, heard.callback());
      ADD_FAILURE() << "a second ClientTracking was made";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
    }
    // A key on every master, read (so tracked there), then written by another client.
    std::vector<std::string> keys;
    for (std::uint16_t port : cluster_->master_ports())
      keys.push_back(key_on(*cluster_, port, "t:"));
    for (const std::string& key : keys) co_await client.set(key, "1", use_awaitable);
    for (const std::string& key : keys) co_await client.get(key, use_awaitable);
    const std::uint64_t epoch = tracking.epoch();
    RedisClient writer(io.get_executor(), cluster_->client_settings());
    co_await writer.connect(use_awaitable);
    for (const std::string& key : keys) co_await writer.set(key, "2", use_awaitable);
    // sync(): every node's invalidations sent before it have reached the callback.
    co_await tracking.sync(use_awaitable);
    for (const std::string& key : keys) EXPECT_TRUE(heard.invalidated(key)) << key;
    EXPECT_EQ(tracking.epoch(), epoch);
    EXPECT_TRUE(tracking.active());
    // FLUSHALL goes to every master: each says "everything" once per tracked connection, and
    // each of those bumps the epoch.
    co_await writer.command<std::string>("FLUSHALL", use_awaitable);
    CO_ASSERT_TRUE(co_await eventually(
        [&] { return heard.count(Kind::flushed) >= cluster_->master_ports().size(); }));
    co_await tracking.sync(use_awaitable);
    EXPECT_EQ(tracking.epoch(), epoch + heard.count(Kind::flushed));
    EXPECT_EQ(heard.last().epoch, tracking.epoch());
    co_await writer.disconnect(use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterTracking, TheNearCacheWorksOverACluster) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    CacheOptions options;
    options.near_cache.enabled = true;
    CacheService cache(client, options);
    RedisClient writer(io.get_executor(), cluster_->client_settings());
    co_await writer.connect(use_awaitable);
    CacheService other(writer);
    for (std::uint16_t port : cluster_->master_ports()) {
      const std::string key = key_on(*cluster_, port, "near:");
      co_await cache.set(key, 1, use_awaitable);
      EXPECT_TRUE(co_await test::held_near(cache, key)) << key;
      // Another client's write takes it out: the next reads see it.
      co_await other.set(key, 2, use_awaitable);
      co_await cache.sync_near_cache(use_awaitable);
      EXPECT_EQ(co_await cache.get<nlohmann::json>(key, use_awaitable), nlohmann::json(2)) << key;
    }
    co_await writer.disconnect(use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

// Its own cluster: a master is killed.
TEST(ClusterTrackingFailover, ThePromotedReplicaIsTrackedByItself) {
  test::LocalCluster cluster;
  const std::uint16_t master = cluster.master_ports().front();
  const std::uint16_t replica = cluster.replica_of(master);
  const std::string key = key_on(cluster, master, "failover:");
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster.client_settings());
    co_await client.connect(use_awaitable);
    test::Recorder heard;
    ClientTracking tracking(client, {}, heard.callback());
    CO_ASSERT_TRUE(co_await eventually([&] { return tracking.active(); }));
    const std::uint64_t epoch = tracking.epoch();
    RedisClient writer(io.get_executor(), cluster.client_settings());
    co_await writer.connect(use_awaitable);  // before its seed may be the node killed
    cluster.node_on(master).stop();          // SIGKILL
    cluster.wait_master(replica);
    CO_ASSERT_TRUE(co_await read_until_served(client, key));
    // The killed node is let go, the new master tracked: on again, with a new epoch.
    CO_ASSERT_TRUE(co_await eventually([&] { return tracking.active(); }, 30s));
    EXPECT_GE(heard.count(Kind::lost), 1u);
    EXPECT_GT(tracking.epoch(), epoch);
    EXPECT_EQ(heard.last().kind, Kind::on);
    // And its invalidations come: read there, written by another client.
    co_await client.get(key, use_awaitable);
    CO_ASSERT_TRUE(co_await read_until_served(writer, key));
    co_await writer.set(key, "new", use_awaitable);
    co_await tracking.sync(use_awaitable);
    EXPECT_TRUE(heard.invalidated(key));
    co_await writer.disconnect(use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
