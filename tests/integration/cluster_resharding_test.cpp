// A cluster client through slot migrations: ASK while a slot is half moved (keys on both
// sides, new keys written where the slot is going), MOVED once it has moved, and a
// resharding of every writer's slot under 16 writers with no failed request and every
// acknowledged write kept.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/cluster_keys.hpp"
#include "support/cluster_suite.hpp"
#include "support/sentinel_load.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

using ClusterResharding = test::ClusterSuite;

TEST_F(ClusterResharding, AskIsFollowedWhileASlotIsHalfMovedAndMovedAfterwards) {
  const std::uint16_t slot = detail::slot_of("ask");
  const std::uint16_t from = cluster_->master_of(slot);
  const std::uint16_t to = test::another_master(*cluster_, slot);
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster_->client_settings());
    co_await client.connect(use_awaitable);
    std::vector<std::string> keys;
    for (int i = 0; i < 10; ++i) {
      keys.push_back("{ask}:" + std::to_string(i));
      const std::string value = "v" + std::to_string(i);
      co_await client.set(keys.back(), value, use_awaitable);
    }
    cluster_->begin_migration(slot, from, to);
    EXPECT_EQ(cluster_->migrate_keys(slot, from, to, 5), 5u);
    // Half the keys answer from `from`, the others with ASK from `to`.
    for (int i = 0; i < 10; ++i) {
      const auto value = co_await client.get(keys[i], use_awaitable);
      EXPECT_EQ(value, "v" + std::to_string(i)) << keys[i];
    }
    // A new key of the slot is written where the slot is going (ASK), and so is a change.
    const std::string fresh = "{ask}:fresh";
    co_await client.set(fresh, "new", use_awaitable);
    const auto fresh_value = co_await client.get(fresh, use_awaitable);
    EXPECT_EQ(fresh_value, "new");
    while (cluster_->migrate_keys(slot, from, to, 100) > 0) {
    }
    cluster_->end_migration(slot, to);
    EXPECT_EQ(cluster_->master_of(slot), to);
    EXPECT_EQ(cluster_->node_on(to).cli({"GET", fresh}), "new");
    // Now the old owner says MOVED, and the client learns the slot's new home.
    for (int i = 0; i < 10; ++i) {
      const auto value = co_await client.get(keys[i], use_awaitable);
      EXPECT_EQ(value, "v" + std::to_string(i)) << keys[i];
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterResharding, SixteenWritersLoseNothingWhileTheirSlotsMove) {
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), cluster_->client_settings());
        co_await client.connect(use_awaitable);
        test::Load load(16);
        const std::string prefix = "reshard:w";
        load.start_writers(io, client, prefix);
        if (!co_await load.started()) co_return;
        // Every writer's slot moves to another master while they write.
        std::set<std::uint16_t> slots;
        for (int i = 0; i < 16; ++i) slots.insert(detail::slot_of(prefix + std::to_string(i)));
        std::atomic<bool> moved{false};
        std::string trouble;
        const auto since = test::LoadClock::now();
        std::thread mover([&] {
          try {
            for (std::uint16_t slot : slots)
              cluster_->move_slot(slot, test::another_master(*cluster_, slot));
          } catch (const std::exception& e) {
            trouble = e.what();
          }
          moved = true;
        });
        // Each slot's move is about ten redis-cli runs (160 in all) on a machine busy with the
        // writers: under ASan it took more than the default 10 s.
        const bool done =
            co_await test::eventually([&] { return moved.load(); }, std::chrono::seconds(90));
        mover.join();
        EXPECT_TRUE(done);
        EXPECT_EQ(trouble, "");
        const auto after = test::LoadClock::now();
        const bool went_on =
            co_await test::eventually([&] { return load.each_acked_since(after, 5); });
        EXPECT_TRUE(went_on) << load.some_errors();
        CO_ASSERT_TRUE(co_await load.halt());
        co_await load.conclude(client, since, "resharding of 16 slots",
                               client.settings().command_timeout);
        EXPECT_EQ(load.failures(), 0) << load.some_errors();
        co_await client.disconnect(use_awaitable);
      },
      std::chrono::seconds(120));
}

}  // namespace
}  // namespace asyncredis
