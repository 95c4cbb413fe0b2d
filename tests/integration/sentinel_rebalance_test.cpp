// A replica client over Sentinel spreads its connections again when a replica comes back: the
// replica killed loses its connections to the other, and once restarted (the sentinels say
// -sdown) takes its share back, moved without failing a read. Its own cluster: the test kills
// and restarts a data node.
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>
#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/cli_poll.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/sentinel_load.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::LoadClock;
using test::run_async;
using test::SentinelCluster;
using test::throttled;
namespace asio = boost::asio;
using asio::use_awaitable;

constexpr const char* kName = "rebalanced-reader";

// How many connections named kName `server` has.
std::size_t ours_on(test::RedisServer& server) {
  const std::string list = server.cli({"CLIENT", "LIST"});
  const std::string needle = std::string("name=") + kName + " ";
  std::size_t count = 0;
  for (auto at = list.find(needle); at != std::string::npos; at = list.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Waits until `a` (unless stopped) and `b` have `on_a` and `on_b` of our connections.
asio::awaitable<bool> spread_is(test::RedisServer& a, std::size_t on_a, test::RedisServer& b,
                                std::size_t on_b, std::chrono::milliseconds limit) {
  const auto spread =
      throttled([&] { return (!a.running() || ours_on(a) == on_a) && ours_on(b) == on_b; }, 100ms);
  co_return co_await test::eventually(spread, limit);
}

// Whether every sentinel flags the replica on `port` subjectively down (s_down).
bool each_sentinel_sees_down(SentinelCluster& cluster, std::uint16_t port) {
  for (std::size_t i = 0; i < SentinelCluster::kSentinels; ++i) {
    // Field and value lines, one replica after the other: its port, then (later) its flags.
    std::istringstream lines(
        cluster.sentinel(i).cli({"SENTINEL", "REPLICAS", cluster.options().master_name}));
    bool on_port = false;
    bool down = false;
    for (std::string field, value; std::getline(lines, field) && std::getline(lines, value);) {
      if (field == "port") on_port = value == std::to_string(port);
      if (field == "flags" && on_port) down = value.find("s_down") != std::string::npos;
    }
    if (!down) return false;
  }
  return true;
}

TEST(SentinelRebalance, AReplicaBackInServiceTakesItsShareWithoutFailingARead) {
  SentinelCluster cluster;
  const std::vector<std::size_t> replicas = cluster.replica_nodes();
  ASSERT_EQ(replicas.size(), 2u);
  cluster.set_replicated("rebalance:key", "v");
  RedisSettings settings = cluster.settings();
  settings.sentinel.replicas = true;
  settings.max_connections = 6;
  settings.client_name = kName;
  test::RedisServer& returning = cluster.node(replicas[0]);
  test::RedisServer& other = cluster.node(replicas[1]);
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load readers(4);
        readers.start_readers(io, client, "rebalance:key");
        const bool started = co_await readers.started();
        if (!started) co_return;

        returning.stop();
        const bool all_moved = co_await spread_is(returning, 0, other, 6, 20s);
        EXPECT_TRUE(all_moved) << "the connections did not all leave the killed replica";
        // Every sentinel sees it down before it comes back: one that only says so later would
        // rightly move the connections that came back to it, failing their reads.
        const bool sentinels_agree = co_await test::eventually(
            throttled([&] { return each_sentinel_sees_down(cluster, returning.port()); }, 100ms),
            30s);
        CO_ASSERT_TRUE(sentinels_agree);

        const long long failed_before = readers.failures();
        const auto restarted_at = LoadClock::now();
        returning.start();
        const bool rebalanced = co_await spread_is(returning, 3, other, 3, 20s);
        EXPECT_TRUE(rebalanced) << "on the returning replica: " << ours_on(returning)
                                << ", on the other: " << ours_on(other);
        const bool reads_go_on = co_await test::eventually(
            [&] { return readers.each_acked_since(LoadClock::now() - 100ms, 1); }, 10s);
        CO_ASSERT_TRUE(co_await readers.halt());
        EXPECT_TRUE(reads_go_on);
        // The move holds new reads until the ones on the wire are answered: none fails.
        EXPECT_EQ(readers.failures(), failed_before) << readers.some_errors(20);
        std::cout << "[ sentinel ] replica back: spread 3/3 again after "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(LoadClock::now() -
                                                                           restarted_at)
                         .count()
                  << " ms; longest gap between reads " << readers.longest_gap(restarted_at).count()
                  << " ms" << std::endl;
        co_await client.disconnect(use_awaitable);
      },
      90s);
}

}  // namespace
}  // namespace asyncredis
