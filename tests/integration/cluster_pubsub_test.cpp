// Sharded pub/sub on a cluster client: each shard channel is subscribed on its slot's master,
// follows MOVED when the client's map is stale, moves with its slot when the slot is migrated
// (the node unsubscribes it by itself) and when its master is killed and a replica takes over.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
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
#include "support/cluster_suite.hpp"
#include "support/subscriber_wait.hpp"

namespace asyncredis {
namespace {

using test::another_master;
using test::key_on;
using test::next_message;
using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using Kind = Message::Kind;

using ClusterPubSub = test::ClusterSuite;

// SPUBLISH through the cluster client (routed by the channel's slot); how many heard it.
asio::awaitable<std::int64_t> spublish(RedisClient& client, const std::string& channel,
                                       const std::string& payload) {
  co_return co_await client.command<std::int64_t>("SPUBLISH", channel, payload, use_awaitable);
}

// SSUBSCRIBE `channel`, then SPUBLISH "before" to it: one subscriber hears it, this one.
asio::awaitable<void> subscribe_and_hear(RedisClient& client, Subscriber& sub,
                                         const std::string& channel) {
  co_await sub.ssubscribe(channel, use_awaitable);
  EXPECT_EQ(co_await spublish(client, channel, "before"), 1);
  const auto m = co_await next_message(sub);
  CO_ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload, "before");
}

// SPUBLISH `payload` until one subscriber hears it, for at most `limit`: a moved channel is
// subscribed again in the background.
asio::awaitable<bool> publish_until_heard(RedisClient& client, const std::string& channel,
                                          const std::string& payload,
                                          std::chrono::milliseconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (co_await spublish(client, channel, payload) == 1) co_return true;
    } catch (const Error&) {
      // The slot's master is being replaced: try again.
    }
    asio::steady_timer pause(co_await asio::this_coro::executor, 20ms);
    co_await pause.async_wait(use_awaitable);
  }
  co_return false;
}

// Receives until both the resubscribed event and `payload` on `channel` came (in either order:
// the event follows the new subscription, as may a message published right after it).
asio::awaitable<void> expect_gap_then_message(Subscriber& sub, const std::string& channel,
                                              const std::string& payload) {
  bool gap = false, heard = false;
  while (!gap || !heard) {
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    if (m->kind == Kind::resubscribed) {
      gap = true;
    } else if (m->kind == Kind::smessage && m->channel == channel && m->payload == payload) {
      heard = true;
    }
  }
}

TEST_F(ClusterPubSub, EachShardChannelIsSubscribedOnItsSlotsMaster) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    std::vector<std::string> channels;
    for (std::uint16_t port : cluster_->master_ports()) {
      channels.push_back(key_on(*cluster_, port, "orders:"));
      channels.push_back(key_on(*cluster_, port, "refunds:"));
    }
    co_await sub.ssubscribe(channels, use_awaitable);
    EXPECT_EQ(sub.stats().shard_channels, channels.size());
    // Each is heard by exactly one subscriber: the one on its slot's master.
    for (const std::string& channel : channels) {
      EXPECT_EQ(co_await spublish(client, channel, "to " + channel), 1) << channel;
    }
    std::set<std::string> heard;
    for (std::size_t i = 0; i < channels.size(); ++i) {
      auto m = co_await next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->kind, Kind::smessage);
      EXPECT_EQ(m->payload, "to " + m->channel);
      heard.insert(m->channel);
    }
    EXPECT_EQ(heard, std::set<std::string>(channels.begin(), channels.end()));
    // Subscribing again changes nothing; unsubscribing reaches every node.
    co_await sub.ssubscribe(channels.front(), use_awaitable);
    EXPECT_EQ(sub.stats().shard_channels, channels.size());
    co_await sub.sunsubscribe(channels, use_awaitable);
    EXPECT_EQ(sub.stats().shard_channels, 0u);
    for (const std::string& channel : channels) {
      EXPECT_EQ(co_await spublish(client, channel, "gone"), 0) << channel;
    }
    // Channels and patterns still work beside them, on one master (PUBLISH counts only the
    // subscribers of the node it went to; the cluster bus carries it to the others).
    co_await sub.subscribe("plain", use_awaitable);
    co_await client.publish("plain", "p", use_awaitable);
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->kind, Kind::message);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterPubSub, AShardChannelMovesWithItsSlot) {
  const std::string channel = key_on(*cluster_, cluster_->master_ports().front(), "moving:");
  const std::uint16_t slot = detail::slot_of(channel);
  const std::uint16_t to = another_master(*cluster_, slot);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    co_await subscribe_and_hear(client, sub, channel);
    // The old owner unsubscribes the channel by itself when the slot leaves it.
    cluster_->move_slot(slot, to);
    CO_ASSERT_TRUE(co_await publish_until_heard(client, channel, "after"));
    co_await expect_gap_then_message(sub, channel, "after");
    EXPECT_EQ(sub.stats().shard_channels, 1u);
    EXPECT_GE(sub.stats().resubscribed, 1u);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterPubSub, ASubscribeWithAStaleMapFollowsMoved) {
  const std::string channel = key_on(*cluster_, cluster_->master_ports().back(), "stale:");
  const std::uint16_t slot = detail::slot_of(channel);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    // The slot moves after the client learnt the map: the old owner answers MOVED.
    cluster_->move_slot(slot, another_master(*cluster_, slot));
    co_await sub.ssubscribe(channel, use_awaitable);
    CO_ASSERT_TRUE(co_await publish_until_heard(client, channel, "found"));
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->kind, Kind::smessage);
    EXPECT_EQ(m->channel, channel);
    EXPECT_EQ(m->payload, "found");
    co_await client.disconnect(use_awaitable);
  });
}

// Its own cluster: a master is killed.
TEST(ClusterPubSubFailover, AShardChannelFollowsItsSlotToThePromotedReplica) {
  test::LocalCluster cluster;
  const std::uint16_t master = cluster.master_ports().front();
  const std::string channel = key_on(cluster, master, "failover:");
  const std::uint16_t replica = cluster.replica_of(master);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster.client_settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    co_await subscribe_and_hear(client, sub, channel);
    cluster.node_on(master).stop();  // SIGKILL
    cluster.wait_master(replica);
    CO_ASSERT_TRUE(co_await publish_until_heard(client, channel, "after"));
    co_await expect_gap_then_message(sub, channel, "after");
    EXPECT_EQ(sub.stats().shard_channels, 1u);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
