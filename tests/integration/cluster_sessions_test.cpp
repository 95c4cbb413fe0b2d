// RedisSessionRepository's two-step writes on a Redis Cluster, where a session and its user's
// index are in different slots: what a crash between the steps leaves behind is safe (an index
// entry without its session, never a session without its entry, never a revoked session back),
// and an entry's score is never lowered below its session's expiry. The repository's ordinary
// behaviour on a cluster is checked by its own suites, run again as cluster.session_*.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "session/session_scripts.hpp"
#include "support/async_test.hpp"
#include "support/cluster_suite.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;

using ClusterSessions = test::ClusterSuite;

const Uuid kAlice = Uuid::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427");

std::string ms_of(system_clock::time_point t) {
  return std::to_string(
      std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

// Runs `body` with a cluster client and a repository over it.
template <class Body>
void with_repository(const test::LocalCluster& cluster, Body body) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), cluster.client_settings());
    co_await client.connect(use_awaitable);
    co_await client.command<void>("FLUSHALL", use_awaitable);
    RedisSessionRepository repo(client);
    co_await body(client, repo);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(ClusterSessions, ASessionAndItsIndexLiveInDifferentSlotsAndStillWorkTogether) {
  with_repository(
      *cluster_, [](RedisClient&, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const Session a = co_await repo.create(kAlice, 1h, use_awaitable);
        const Session b = co_await repo.create(kAlice, 2h, use_awaitable);
        EXPECT_NE(detail::slot_of(repo.key_of(a.id)), detail::slot_of(repo.index_key_of(kAlice)));
        const std::vector<Session> listed = co_await repo.list_for_user(kAlice, use_awaitable);
        const std::vector<Session> both{a, b};
        EXPECT_EQ(listed, both);
        EXPECT_EQ(co_await repo.revoke_all(kAlice, use_awaitable), 2u);
        EXPECT_FALSE(co_await repo.get(a.id, use_awaitable));
        EXPECT_TRUE((co_await repo.list_for_user(kAlice, use_awaitable)).empty());
      });
}

TEST_F(ClusterSessions, ACreateCutAfterItsIndexStepLeavesOnlyAHarmlessEntry) {
  with_repository(
      *cluster_, [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const std::string index = repo.index_key_of(kAlice);
        const auto expires = system_clock::now() + 1h;
        const std::string ghost_id = "ghost";
        // The first step of a create whose process died before the second.
        const std::vector<std::string> args{ms_of(expires), ghost_id, ms_of(system_clock::now())};
        EXPECT_EQ(co_await c.eval<long long>(session_detail::index_add_script(), index, args,
                                             use_awaitable),
                  1);
        const Session live = co_await repo.create(kAlice, 1h, use_awaitable);

        const std::vector<Session> only_live{live};
        const std::vector<Session> listed = co_await repo.list_for_user(kAlice, use_awaitable);
        EXPECT_EQ(listed, only_live);
        EXPECT_FALSE(co_await repo.get(ghost_id, use_awaitable));
        // A save of the session that was never written writes nothing and drops the entry.
        Session ghost = live;
        ghost.id = ghost_id;
        EXPECT_EQ(co_await repo.save(ghost, use_awaitable), SaveResult::missing);
        EXPECT_FALSE(co_await c.zscore(index, ghost_id, use_awaitable));
        EXPECT_FALSE(co_await repo.get(ghost_id, use_awaitable));
      });
}

TEST_F(ClusterSessions, ARevokeCutAfterDeletingTheSessionsNeverBringsThemBack) {
  with_repository(*cluster_,
                  [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
                    const std::string index = repo.index_key_of(kAlice);
                    const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
                    // revoke_all()'s first step alone: the session deleted, its entry left.
                    const std::string user = kAlice.to_string();
                    const std::string key = repo.key_of(s.id);
                    EXPECT_EQ(co_await c.eval<long long>(session_detail::revoke_session_script(),
                                                         key, user, use_awaitable),
                              1);
                    EXPECT_TRUE(co_await c.zscore(index, s.id, use_awaitable));

                    // Every later write of that session finds it gone.
                    EXPECT_EQ(co_await repo.save(s, use_awaitable), SaveResult::missing);
                    EXPECT_FALSE(co_await repo.touch(s.id, 2h, use_awaitable));
                    EXPECT_FALSE(co_await repo.get(s.id, use_awaitable));
                    EXPECT_EQ(co_await c.exists(key, use_awaitable), 0);
                    EXPECT_TRUE((co_await repo.list_for_user(kAlice, use_awaitable)).empty());
                    // And the rest of the revoke finishes the job.
                    EXPECT_EQ(co_await repo.revoke_all(kAlice, use_awaitable), 0u);
                  });
}

TEST_F(ClusterSessions, AnIndexEntryNeverExpiresBeforeItsSession) {
  with_repository(
      *cluster_, [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const std::string index = repo.index_key_of(kAlice);
        const Session s = co_await repo.create(kAlice, 2h, use_awaitable);
        const std::optional<double> first = co_await c.zscore(index, s.id, use_awaitable);
        CO_ASSERT_TRUE(first.has_value());

        // A save that shortens the session leaves the entry's score where it was: a racing writer
        // may still be raising it, and an entry that ends early hides a live session from revoke.
        Session shorter = s;
        shorter.expires_at = system_clock::now() + 1h;
        EXPECT_EQ(co_await repo.save(shorter, use_awaitable), SaveResult::stored);
        EXPECT_EQ(co_await c.zscore(index, s.id, use_awaitable), first);
        const auto pttl = co_await c.pttl(repo.key_of(s.id), use_awaitable);
        EXPECT_LE(pttl, std::chrono::milliseconds(1h).count());
        EXPECT_GE(co_await c.command<std::int64_t>("PEXPIRETIME", index, use_awaitable),
                  static_cast<std::int64_t>(*first));

        // A touch that lengthens it raises the score with it.
        const std::optional<Session> longer = co_await repo.touch(s.id, 3h, use_awaitable);
        CO_ASSERT_TRUE(longer.has_value());
        const double raised = static_cast<double>(std::stoll(ms_of(longer->expires_at)));
        EXPECT_EQ(co_await c.zscore(index, s.id, use_awaitable), raised);
        const std::vector<Session> only_longer{*longer};
        const std::vector<Session> listed = co_await repo.list_for_user(kAlice, use_awaitable);
        EXPECT_EQ(listed, only_longer);
      });
}

}  // namespace
}  // namespace asyncredis
