// RedisClient over Sentinel through a SENTINEL FAILOVER under 16 writers (nothing hangs, the
// client follows by itself, no INCR applied twice, the acknowledged count is on the new
// master), then replica reads while a replica is killed. One cluster for the suite; the
// tests run in order (the second starts from the topology the first left).
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <set>
#include <thread>

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
  const std::uint16_t old_master = cluster_->master_port();
  RedisSettings settings = cluster_->settings();
  settings.max_connections = 4;
  std::atomic<std::uint16_t> new_master{0};
  std::thread watch;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load writers(16);
        writers.start_writers(io, client, "failover:counter:");
        const bool started = co_await writers.started();
        if (!started) co_return;

        const auto failover_at = LoadClock::now();
        cluster_->failover();
        // The sentinels are asked from another thread: redis-cli blocks, the writers must not.
        watch = std::thread([&] { new_master = cluster_->wait_new_master(old_master); });
        const bool switched = co_await test::eventually([&] { return new_master != 0; }, 25s);
        if (!switched || new_master == old_master) {
          ADD_FAILURE() << "the sentinels did not switch masters";
          co_await writers.halt();
          co_return;
        }
        // Following by itself: every connection moves to the new master (once the sentinels
        // say +switch-master), and every writer is acknowledged there, many times over.
        const std::string new_port = std::to_string(new_master.load());
        const bool moved = co_await test::all_on(client, new_port, 10s);
        const auto follow_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(LoadClock::now() - failover_at);
        EXPECT_TRUE(moved);
        const auto moved_at = LoadClock::now();
        const bool followed =
            co_await test::eventually([&] { return writers.each_acked_since(moved_at, 20); }, 20s);
        CO_ASSERT_TRUE(co_await writers.halt());
        EXPECT_TRUE(followed) << "failures:" << writers.some_errors();
        std::cout << "[ sentinel ] all connections on the new master " << follow_ms.count()
                  << " ms after the SENTINEL FAILOVER" << std::endl;
        // 0 hangs, at most once per attempt, the last acknowledged count on the new master.
        const std::string what = "SENTINEL FAILOVER";  // named: no temporary in a co_await
        co_await writers.conclude(client, failover_at, what, settings.command_timeout);
        co_await client.disconnect(use_awaitable);
      },
      60s);
  if (watch.joinable()) watch.join();
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
  const std::string survivor = std::to_string(cluster_->node(replicas[1]).port());
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
