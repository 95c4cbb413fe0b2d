// RedisClient::lease_for(key) on a cluster client: an exclusive connection to the master of the
// key's slot, so WATCH ... MULTI ... EXEC works on a cluster; what it refuses (lease() without a
// key, before connect()), and that a command for another slot gets Redis's MOVED, not a silent
// answer from the wrong node. SyncClient::lease_for() likewise. On one node lease_for() is
// lease().
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/sync_client.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_suite.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;

using ClusterLease = test::ClusterSuite;

using test::error_of;

TEST_F(ClusterLease, AWatchedTransactionRunsOnTheMasterOfItsSlot) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    const std::string balance = "{account:7}:balance", log = "{account:7}:log";
    co_await client.set(balance, 10, use_awaitable);

    Lease lease = co_await client.lease_for(balance, use_awaitable);
    EXPECT_EQ(client.stats().leases, 1u);
    // The lease's connection is the slot's master's.
    const std::string port = std::to_string(cluster_->master_of(detail::slot_of(balance)));
    const auto config =
        co_await lease.command<std::vector<std::string>>("CONFIG", "GET", "port", use_awaitable);
    EXPECT_EQ(config, (std::vector<std::string>{"port", port}));
    co_await lease.command<void>("WATCH", balance, use_awaitable);
    co_await client.set(balance, 100, use_awaitable);  // another connection changes it
    Pipeline debit;
    debit.add("DECRBY", balance, 3);
    debit.add("RPUSH", log, "-3");
    const auto aborted = co_await lease.transaction(debit, use_awaitable);
    EXPECT_FALSE(aborted.has_value()) << "WATCH saw the change";

    co_await lease.command<void>("WATCH", balance, use_awaitable);
    const auto applied = co_await lease.transaction(debit, use_awaitable);
    EXPECT_TRUE(applied.has_value());
    EXPECT_EQ(co_await client.get(balance, use_awaitable), std::optional<std::string>("97"));
    EXPECT_EQ(co_await client.llen(log, use_awaitable), 1);

    // A key of another slot is not this node's: Redis says MOVED, nothing is answered for it.
    std::string elsewhere = "elsewhere:0";
    for (int i = 1; detail::slot_of(elsewhere) == detail::slot_of(balance) ||
                    cluster_->master_of(detail::slot_of(elsewhere)) == std::stoi(port);
         ++i) {
      elsewhere = "elsewhere:" + std::to_string(i);
    }
    const Error moved = co_await error_of(lease.get(elsewhere, use_awaitable));
    EXPECT_EQ(moved.code(), errc::server_error);
    EXPECT_TRUE(moved.message().starts_with("MOVED")) << moved.message();

    lease.release();
    EXPECT_EQ(client.stats().leases, 0u);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterLease, ALeaseWithoutAKeyOrBeforeConnectIsRefused) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    const Error early = co_await error_of(client.lease_for("k", use_awaitable));
    EXPECT_EQ(early.code(), errc::not_connected) << early.what();
    co_await client.connect(use_awaitable);
    const Error keyless = co_await error_of(client.lease(use_awaitable));
    EXPECT_EQ(keyless.code(), errc::invalid_argument);
    EXPECT_NE(keyless.message().find("lease_for(key)"), std::string::npos) << keyless.message();
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterLease, ASyncClientLeasesTheMasterOfAKeysSlot) {
  SyncClient redis(cluster_->client_settings());
  const std::string queue = "{jobs}:queue";
  SyncLease lease = redis.lease_for(queue);
  const std::string port = std::to_string(cluster_->master_of(detail::slot_of(queue)));
  EXPECT_EQ(lease.command<std::vector<std::string>>("CONFIG", "GET", "port").at(1), port);
  redis.command("RPUSH", queue, "job");
  const auto popped = lease.blpop(queue, std::chrono::seconds(1));
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->second, "job");
  try {
    redis.lease();
    ADD_FAILURE() << "a keyless lease on a cluster";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

TEST(ClusterLeaseOnOneNode, LeaseForIsALeaseOnOneNode) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    Lease lease = co_await client.lease_for("any", use_awaitable);
    co_await lease.command<void>("WATCH", "any", use_awaitable);
    Pipeline p;
    p.add("SET", "any", 1);
    const auto applied = co_await lease.transaction(p, use_awaitable);
    EXPECT_TRUE(applied.has_value());
    EXPECT_EQ(client.stats().leases, 1u);
    lease.release();
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
