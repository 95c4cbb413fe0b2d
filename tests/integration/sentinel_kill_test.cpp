// RedisClient over Sentinel when the master is SIGKILLed under writers: the client follows the
// promotion within down-after + failover-timeout + one refresh, and the old master, restarted
// (empty, saying it is a master until the sentinels turn it into a replica), is never written
// to. Its own cluster: the kill changes the topology for good.
#include <gtest/gtest.h>

#include <atomic>
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

TEST(SentinelKill, FollowsThePromotionAndNeverWritesToTheOldMaster) {
  SentinelCluster cluster;
  const std::uint16_t old_port = cluster.master_port();
  test::RedisServer& old_master = cluster.node_on(old_port);
  std::size_t old_index = 0;
  while (&cluster.node(old_index) != &old_master) ++old_index;
  RedisSettings settings = cluster.settings();
  settings.max_connections = 4;
  settings.client_name = "sentinel-kill-writer";
  // What the issue allows: the sentinels' detection and failover, then one refresh of ours.
  const auto allowed = cluster.options().down_after + cluster.options().failover_timeout + 1000ms;

  std::atomic<std::uint16_t> new_port{0};
  std::atomic<bool> old_master_written{false};
  std::atomic<bool> old_master_replica{false};
  std::thread watch;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load writers(8);
        writers.start_writers(io, client, "kill:counter:");
        const bool started = co_await writers.started();
        if (!started) co_return;
        const auto killed_at = LoadClock::now();
        old_master.stop();  // SIGKILL
        // redis-cli blocks: the sentinels and the old master are watched from another thread.
        watch = std::thread([&] {
          new_port = cluster.wait_new_master(old_port);
          // Restarted, it is an empty master until the sentinels convert it; meanwhile none of
          // our connections may reach it (they carry our client name).
          old_master.start();
          test::wait_until(
              [&] {
                try {
                  if (old_master.cli({"CLIENT", "LIST"}).find("name=sentinel-kill-writer") !=
                      std::string::npos) {
                    old_master_written = true;
                  }
                } catch (const std::runtime_error&) {
                  // Converting, it closed redis-cli's connection too: asked again.
                }
                return cluster.role(old_index) == "slave";
              },
              20s);
          old_master_replica = true;
        });
        const bool recovered = co_await test::eventually(
            [&] { return new_port != 0 && writers.each_acked_since(LoadClock::now() - 50ms, 1); },
            25s);
        const auto recovered_after = LoadClock::now() - killed_at;
        const bool converted =
            co_await test::eventually([&] { return old_master_replica.load(); }, 25s);
        const auto converted_at = LoadClock::now();
        const bool wrote_on = co_await test::eventually(
            [&] { return writers.each_acked_since(converted_at, 20); }, 10s);
        const bool halted = co_await writers.halt();
        EXPECT_TRUE(halted);
        EXPECT_TRUE(recovered) << writers.some_errors();
        EXPECT_TRUE(converted);
        EXPECT_TRUE(wrote_on) << writers.some_errors();
        EXPECT_FALSE(old_master_written.load());

        // 0 hangs, at most once per attempt, the last acknowledged count on the new master.
        const std::string what = "master SIGKILLed";  // named: no temporary in a co_await
        const auto window =
            co_await writers.conclude(client, killed_at, what, settings.command_timeout);
        EXPECT_LE(window, allowed);
        EXPECT_LE(recovered_after, allowed + 2s);  // + the test's polling on a loaded machine
        co_await client.disconnect(use_awaitable);
      },
      90s);
  if (watch.joinable()) watch.join();
}

}  // namespace
}  // namespace asyncredis
