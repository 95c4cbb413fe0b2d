// RedisClient over Sentinel through a SENTINEL FAILOVER under 16 writers (nothing hangs, the
// client follows by itself, no INCR applied twice, the acknowledged count is on the new
// master), then replica reads while a replica is killed. One cluster for the suite; the
// tests run in order (the second starts from the topology the first left).
#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/sentinel_load.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::LoadClock;
using test::run_async;
using test::SentinelCluster;
namespace asio = boost::asio;
using asio::use_awaitable;

class SentinelFailover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new SentinelCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static inline SentinelCluster* cluster_ = nullptr;
};

TEST_F(SentinelFailover, FollowsAFailoverUnderSixteenWriters) {
  RedisSettings settings = cluster_->settings();
  settings.max_connections = 4;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load writers(16);
        writers.start_writers(io, client, "failover:counter:");
        const bool started = co_await writers.started();
        if (!started) co_return;
        // Follows by itself (once the sentinels say +switch-master); 0 hangs, at most once per
        // attempt, the last acknowledged count on the new master.
        const std::string what = "SENTINEL FAILOVER";  // named: no temporary in a co_await
        co_await test::follow_failover(*cluster_, client, writers, what, settings.command_timeout);
        co_await client.disconnect(use_awaitable);
      },
      60s);
  cluster_->wait_settled(cluster_->master_port(), SentinelCluster::kNodes - 1);
}

TEST_F(SentinelFailover, ReplicaReadsSurviveAReplicaKill) {
  const std::vector<std::size_t> replicas = cluster_->replica_nodes();
  ASSERT_EQ(replicas.size(), 2u);
  cluster_->set_replicated("replica:key", "v");
  RedisSettings settings = cluster_->settings();
  settings.sentinel.replicas = true;
  settings.max_connections = 4;
  settings.client_name = "sentinel-replica-reader";
  test::RedisServer& victim = cluster_->node(replicas[0]);
  const std::string survivor = std::to_string(cluster_->node_port(replicas[1]));
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load readers(4);
        readers.start_readers(io, client, "replica:key");
        const bool started = co_await readers.started();
        if (!started) co_return;
        // The connections are spread over both replicas, so the kill hits some of them.
        const std::string on_victim = victim.cli({"CLIENT", "LIST"});
        EXPECT_NE(on_victim.find("name=sentinel-replica-reader"), std::string::npos);
        const auto killed_at = LoadClock::now();
        victim.stop();
        // Reads go on: each reader is answered again and again after the kill.
        const bool survived = co_await test::eventually(
            [&] {
              return readers.each_acked_since(LoadClock::now() - 100ms, 1) &&
                     readers.each_acked_since(killed_at, 50);
            },
            20s);
        CO_ASSERT_TRUE(co_await readers.halt());
        EXPECT_TRUE(survived) << "failures:" << readers.some_errors();
        const auto window = readers.longest_gap(killed_at);
        std::cout << "[ sentinel ] replica killed under 4 readers: no read answered for "
                  << window.count() << " ms; " << readers.failures()
                  << " failed reads; failures:" << readers.some_errors() << std::endl;
        EXPECT_LE(readers.slowest(), settings.command_timeout + 1000ms);
        // Once the sentinels see it down, every connection is on the surviving replica.
        co_await test::eventually([&] { return client.stats().connected == 4; }, 10s);
        const auto ports = co_await test::ports_seen(client, 8);
        EXPECT_EQ(ports, std::set<std::string>{survivor});
        co_await client.disconnect(use_awaitable);
      },
      60s);
}

}  // namespace
}  // namespace asyncredis
