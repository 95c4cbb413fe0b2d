// RedisSessionRepository's sliding expiry and per-user index against a real redis-server:
// touch and its lifetime cap, list_for_user and its pruning, revoke_all, the index's own TTL,
// completion tokens, and the options it refuses.
#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <vector>

#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "session/session_scripts.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using std::chrono::system_clock;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

using Body = std::function<asio::awaitable<void>(RedisClient&, RedisSessionRepository&)>;

std::int64_t ms_of(system_clock::time_point t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

using test::error_of;

class SessionIndex : public test::SharedServerTest {
 protected:
  static void run(const Body& body, SessionOptions options = {}) {
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      const RedisSettings settings = server_->settings();
      RedisClient client(io.get_executor(), settings, settings.session_db);
      co_await client.connect(use_awaitable);
      RedisSessionRepository repo(client, options);
      co_await body(client, repo);
      co_await client.disconnect(use_awaitable);
    });
  }
};

const Uuid kAlice = Uuid::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427");
const Uuid kBob = Uuid::parse("9f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b");

asio::awaitable<std::int64_t> expire_time(RedisClient& c, const std::string& key) {
  co_return co_await c.command<std::int64_t>("PEXPIRETIME", key, use_awaitable);
}

TEST_F(SessionIndex, TouchSlidesTheExpiryBothWays) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session s = co_await repo.create(kAlice, 10s, use_awaitable);
    const auto before = system_clock::now();
    const auto longer = co_await repo.touch(s.id, 1h, use_awaitable);
    EXPECT_TRUE(longer.has_value());
    if (!longer) co_return;
    // Session times are whole microseconds (Python's precision): touch() truncates its now.
    constexpr auto kSessionTimeResolution = std::chrono::microseconds(1);
    EXPECT_GE(longer->expires_at, before + 1h - kSessionTimeResolution);
    EXPECT_LE(longer->expires_at, system_clock::now() + 1h);
    EXPECT_EQ(longer->created_at, s.created_at);
    EXPECT_EQ(longer->data, s.data);
    EXPECT_EQ(co_await repo.get(s.id, use_awaitable), longer);
    EXPECT_EQ(co_await expire_time(c, repo.key_of(s.id)), ms_of(longer->expires_at));
    EXPECT_EQ(co_await expire_time(c, repo.index_key_of(kAlice)), ms_of(longer->expires_at));
    // Sliding means now + ttl, also when that is sooner.
    const auto shorter = co_await repo.touch(s.id, 5s, use_awaitable);
    EXPECT_TRUE(shorter.has_value());
    if (!shorter) co_return;
    EXPECT_LT(shorter->expires_at, longer->expires_at);
    EXPECT_EQ(co_await expire_time(c, repo.key_of(s.id)), ms_of(shorter->expires_at));
    const auto pttl = co_await c.pttl(repo.key_of(s.id), use_awaitable);
    EXPECT_GT(pttl, 4000);
    EXPECT_LE(pttl, 5000);
  });
}

TEST_F(SessionIndex, TouchNeverExtendsPastTheMaxLifetime) {
  SessionOptions options;
  options.max_lifetime = 1h;
  run(
      [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const Session s = co_await repo.create(kAlice, 10min, use_awaitable);
        const auto capped = co_await repo.touch(s.id, 5h, use_awaitable);
        EXPECT_TRUE(capped.has_value());
        if (!capped) co_return;
        EXPECT_EQ(capped->expires_at, s.created_at + 1h);
        EXPECT_EQ(co_await expire_time(c, repo.key_of(s.id)), ms_of(s.created_at + 1h));

        // A session whose lifetime is used up is removed by its next touch.
        Session old = s;
        old.id = "old";
        old.created_at = system_clock::now() - 2h;
        old.expires_at = system_clock::now() + 10min;
        co_await c.set("session:old", encode_session(old), use_awaitable);
        EXPECT_EQ(co_await repo.touch("old", 5min, use_awaitable), std::nullopt);
        EXPECT_EQ(co_await c.exists("session:old", use_awaitable), 0);
      },
      options);
}

TEST_F(SessionIndex, TouchOfNothingIsNothingAndBadTtlsAreRefused) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    EXPECT_EQ(co_await repo.touch("missing", 1h, use_awaitable), std::nullopt);
    EXPECT_EQ(co_await repo.touch("not:valid", 1h, use_awaitable), std::nullopt);
    const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    const Error e = co_await error_of(repo.touch(s.id, 0ms, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 2) << "session, index";
    EXPECT_TRUE(co_await repo.remove(s.id, use_awaitable));
    EXPECT_EQ(co_await repo.touch(s.id, 1h, use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0) << "no resurrection";
  });
}

TEST_F(SessionIndex, TouchDoesNotLoseAConcurrentSave) {
  run([](RedisClient&, RedisSessionRepository& repo) -> asio::awaitable<void> {
    Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    for (int round = 0; round < 100; ++round) {
      s.data = {{"round", round}};
      int pending = 2;
      int failures = 0;
      repo.touch(s.id, 2h, [&](std::exception_ptr e, std::optional<Session>) {
        failures += e ? 1 : 0;
        --pending;
      });
      repo.save(s, [&](std::exception_ptr e, SaveResult) {
        failures += e ? 1 : 0;
        --pending;
      });
      CO_ASSERT_TRUE(co_await test::eventually([&] { return pending == 0; }));
      EXPECT_EQ(failures, 0);
      const auto stored = co_await repo.get(s.id, use_awaitable);
      EXPECT_TRUE(stored.has_value());
      if (!stored) co_return;
      EXPECT_EQ(stored->data, s.data) << "round " << round;
    }
  });
}

TEST_F(SessionIndex, ListsAUsersLiveSessionsSoonestFirst) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session late = co_await repo.create(kAlice, 3h, use_awaitable);
    const Session soon = co_await repo.create(kAlice, 1h, use_awaitable);
    const Session middle = co_await repo.create(kAlice, 2h, use_awaitable);
    const Session bobs = co_await repo.create(kBob, 1h, use_awaitable);
    const auto alices = co_await repo.list_for_user(kAlice, use_awaitable);
    EXPECT_EQ(alices, (std::vector<Session>{soon, middle, late}));
    {
      const auto listed = co_await repo.list_for_user(kBob, use_awaitable);
      EXPECT_EQ(listed, std::vector<Session>{bobs});
    }
    EXPECT_TRUE((co_await repo.list_for_user(Uuid::random(), use_awaitable)).empty());
    // The index lives exactly as long as its longest-lived session.
    EXPECT_EQ(co_await expire_time(c, repo.index_key_of(kAlice)), ms_of(late.expires_at));
    EXPECT_TRUE(co_await repo.remove(late.id, use_awaitable));
    EXPECT_EQ(co_await c.command<std::int64_t>("ZCARD", repo.index_key_of(kAlice), use_awaitable),
              2);
  });
}

TEST_F(SessionIndex, ListPrunesExpiredAndDanglingEntries) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const std::string index = repo.index_key_of(kAlice);
    const Session live = co_await repo.create(kAlice, 1h, use_awaitable);
    const Session brief = co_await repo.create(kAlice, 50ms, use_awaitable);
    const Session dangling = co_await repo.create(kAlice, 2h, use_awaitable);
    co_await c.del(repo.key_of(dangling.id), use_awaitable);  // gone behind the index's back
    const std::int64_t past = ms_of(system_clock::now()) - 1000;
    co_await c.zadd(index, static_cast<double>(past), "ancient", use_awaitable);
    // `brief` expiring is the behaviour under test: wait for its time to come (list_for_user
    // counts a session as expired by this machine's clock or Redis's, whichever is later).
    CO_ASSERT_TRUE(
        co_await test::eventually([&] { return system_clock::now() > brief.expires_at; }));

    {
      const auto listed = co_await repo.list_for_user(kAlice, use_awaitable);

      EXPECT_EQ(listed, std::vector<Session>{live});
    }
    const auto members =
        co_await c.command<std::vector<std::string>>("ZRANGE", index, 0, -1, use_awaitable);
    // On a cluster an entry without its session may be one being created (its entry comes
    // first): it stays until its score passes.
    const bool cluster = server_->is_cluster();
    const Session& longest = cluster ? dangling : live;
    const std::vector<std::string> kept = cluster ? std::vector<std::string>{live.id, dangling.id}
                                                  : std::vector<std::string>{live.id};
    EXPECT_EQ(members, kept) << "pruned as it went";
    EXPECT_EQ(co_await expire_time(c, index), ms_of(longest.expires_at)) << "TTL follows the rest";

    // Once every entry is gone, so is the index.
    EXPECT_TRUE(co_await repo.remove(live.id, use_awaitable));
    if (cluster) co_await c.zrem(index, dangling.id, use_awaitable);
    EXPECT_TRUE((co_await repo.list_for_user(kAlice, use_awaitable)).empty());
    EXPECT_EQ(co_await c.exists(index, use_awaitable), 0);
  });
}

TEST_F(SessionIndex, ListNamesTheKeyOfAMalformedSessionAndSkipsOtherUsers) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const std::string index = repo.index_key_of(kAlice);
    const double future = static_cast<double>(ms_of(system_clock::now() + 1h));
    // Bob's session named in Alice's index (written by some other program) is not Alice's.
    const Session bobs = co_await repo.create(kBob, 1h, use_awaitable);
    co_await c.zadd(index, future, bobs.id, use_awaitable);
    const Session alices = co_await repo.create(kAlice, 1h, use_awaitable);
    {
      const auto listed = co_await repo.list_for_user(kAlice, use_awaitable);
      EXPECT_EQ(listed, std::vector<Session>{alices});
    }

    co_await c.set("session:garbled", "{\"id\": \"garbled\", \"user_id\": 12}", use_awaitable);
    co_await c.zadd(index, future, "garbled", use_awaitable);
    const Error e = co_await error_of(repo.list_for_user(kAlice, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::decode_error)) << e.what();
    EXPECT_NE(e.message().find("\"session:garbled\""), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("user_id"), std::string::npos) << e.message();
  });
}

TEST_F(SessionIndex, RevokeAllDeletesEveryOneOfTheUsersSessionsAndTheIndex) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    std::vector<Session> alices;
    for (int i = 0; i < 3; ++i) alices.push_back(co_await repo.create(kAlice, 1h, use_awaitable));
    const Session bobs = co_await repo.create(kBob, 1h, use_awaitable);
    const double future = static_cast<double>(ms_of(system_clock::now() + 1h));
    const std::string index = repo.index_key_of(kAlice);
    // An unreadable session in Alice's index goes too; Bob's session named there does not.
    co_await c.set("session:garbled", "not json", use_awaitable);
    co_await c.zadd(index, future, "garbled", use_awaitable);
    co_await c.zadd(index, future, bobs.id, use_awaitable);

    EXPECT_EQ(co_await repo.revoke_all(kAlice, use_awaitable), 4u);
    for (const Session& s : alices) {
      EXPECT_EQ(co_await repo.get(s.id, use_awaitable), std::nullopt);
      EXPECT_EQ(co_await repo.save(s, use_awaitable), SaveResult::missing) << "stays revoked";
    }
    EXPECT_EQ(co_await c.exists("session:garbled", use_awaitable), 0);
    EXPECT_EQ(co_await c.exists(index, use_awaitable), 0);
    EXPECT_EQ(co_await repo.get(bobs.id, use_awaitable), bobs);
    {
      const auto listed = co_await repo.list_for_user(kBob, use_awaitable);
      EXPECT_EQ(listed, std::vector<Session>{bobs});
    }
    EXPECT_EQ(co_await repo.revoke_all(kAlice, use_awaitable), 0u);
  });
}

TEST_F(SessionIndex, CustomPrefixesAreUsedForEveryKey) {
  SessionOptions options;
  options.key_prefix = "app:s:";
  options.user_index_prefix = "app:s-by-user:";
  run(
      [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
        EXPECT_EQ(co_await c.exists("app:s:" + s.id, use_awaitable), 1);
        EXPECT_EQ(co_await c.exists("app:s-by-user:" + kAlice.to_string(), use_awaitable), 1);
        {
          const auto listed = co_await repo.list_for_user(kAlice, use_awaitable);
          EXPECT_EQ(listed, std::vector<Session>{s});
        }
        EXPECT_TRUE(co_await repo.remove(s.id, use_awaitable));
        EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0);
      },
      options);
}

TEST_F(SessionIndex, IndexScriptsRefuseAnIndexThatChangedSinceItWasRead) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session a = co_await repo.create(kAlice, 1h, use_awaitable);
    const Session b = co_await repo.create(kAlice, 1h, use_awaitable);
    const std::string index = repo.index_key_of(kAlice);
    // As if the index had been read before `b` was created: only `a` and its key are given.
    const std::vector<std::string> keys{index, repo.key_of(a.id)};
    if (server_->is_cluster()) {
      // The scripts cannot run there at all (two slots), which is why the repository splits
      // its writes: refused before anything is sent.
      const std::vector<std::string> args{kAlice.to_string(), a.id};
      const Error refused = co_await error_of(
          c.eval<long long>(session_detail::revoke_script(), keys, args, use_awaitable));
      EXPECT_EQ(refused.code(), make_error_code(errc::cross_slot)) << refused.what();
      co_return;
    }
    const std::vector<std::string> revoke_args{kAlice.to_string(), a.id};
    EXPECT_EQ(co_await c.eval<long long>(session_detail::revoke_script(), keys, revoke_args,
                                         use_awaitable),
              session_detail::kScriptConflict);
    const std::vector<std::string> list_args{std::to_string(ms_of(system_clock::now())), a.id};
    EXPECT_EQ(
        co_await c.eval<long long>(session_detail::list_script(), keys, list_args, use_awaitable),
        session_detail::kScriptConflict);
    EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 3) << "nothing done";
    EXPECT_EQ(co_await c.command<std::int64_t>("ZCARD", index, use_awaitable), 2);
    (void)b;
  });
}

TEST_F(SessionIndex, RevokeAllRacingCreatesLeavesNoSessionOutOfTheIndex) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    for (int round = 0; round < 20; ++round) {
      int pending = 11;
      int failures = 0;
      std::size_t revoked = 0;
      for (int i = 0; i < 10; ++i) {
        repo.create(kAlice, 1h, [&](std::exception_ptr e, Session) {
          failures += e ? 1 : 0;
          --pending;
        });
        if (i == 4) {
          repo.revoke_all(kAlice, [&](std::exception_ptr e, std::size_t n) {
            failures += e ? 1 : 0;
            revoked = n;
            --pending;
          });
        }
      }
      CO_ASSERT_TRUE(co_await test::eventually([&] { return pending == 0; }));
      EXPECT_EQ(failures, 0);
      // Whatever the revoke did not delete is still listed: no session lost its index entry.
      const auto listed = co_await repo.list_for_user(kAlice, use_awaitable);
      EXPECT_EQ(revoked + listed.size(), 10u) << "round " << round;
      const auto keys = co_await c.command<std::int64_t>("DBSIZE", use_awaitable);
      EXPECT_EQ(keys, static_cast<std::int64_t>(listed.size()) + (listed.empty() ? 0 : 1));
      co_await repo.revoke_all(kAlice, use_awaitable);
    }
  });
}

TEST_F(SessionIndex, WorksWithCallbacksFuturesAndOutlivesTheRepositoryObject) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const RedisSettings settings = server_->settings();
    RedisClient client(io.get_executor(), settings, settings.session_db);
    co_await client.connect(use_awaitable);
    std::optional<Session> created;
    std::exception_ptr error;
    {
      RedisSessionRepository repo(client);
      repo.create(kAlice, 1h, [&](std::exception_ptr e, Session s) {
        error = e;
        created = std::move(s);
      });
    }  // the operation keeps what it needs
    CO_ASSERT_TRUE(co_await test::eventually([&] { return created || error; }));
    EXPECT_FALSE(error);
    EXPECT_TRUE(created.has_value());
    if (!created) co_return;
    // A Commands view with its own timeout works as well as the client.
    RedisSessionRepository repo(client.with_timeout(2s), client.get_executor());
    std::size_t revoked = 99;
    repo.revoke_all(kAlice, [&](std::exception_ptr e, std::size_t n) {
      error = e;
      revoked = n;
    });
    CO_ASSERT_TRUE(co_await test::eventually([&] { return revoked != 99 || error; }));
    EXPECT_EQ(revoked, 1u);
    co_await client.disconnect(use_awaitable);
  });
  // use_future from a thread that is not running the io_context.
  asio::io_context io;
  const RedisSettings settings = server_->settings();
  RedisClient client(io.get_executor(), settings, settings.session_db);
  std::future<void> connected = client.connect(asio::use_future);
  std::thread runner([&io] {
    auto guard = asio::make_work_guard(io);
    io.run_for(10s);
  });
  connected.get();
  RedisSessionRepository repo(client);
  const Session s = repo.create(kBob, 1h, asio::use_future).get();
  EXPECT_EQ(repo.get(s.id, asio::use_future).get(), s);
  EXPECT_TRUE(repo.remove(s.id, asio::use_future).get());
  client.disconnect(asio::use_future).get();
  io.stop();
  runner.join();
}

TEST(SessionOptionsCheck, RefusesOptionsThatCannotWork) {
  asio::io_context io;
  auto refused = [&io](SessionOptions options, const std::string& expected) {
    try {
      RedisSessionRepository repo(Commands(), io.get_executor(), std::move(options));
      ADD_FAILURE() << "accepted, expected " << expected;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting)) << e.what();
      EXPECT_NE(e.message().find(expected), std::string::npos) << e.message();
    }
  };
  refused({.key_prefix = ""}, "key_prefix must not be empty");
  refused({.user_index_prefix = ""}, "user_index_prefix must not be empty");
  refused({.max_lifetime = 0ms}, "max_lifetime must be positive");
  refused({.id_generator = nullptr}, "id_generator must be set");
  refused({.key_prefix = "s:", .user_index_prefix = "s:"}, "must differ");
  // "session:u" + <uuid> would be the key of a session whose id is "u<uuid>".
  refused({.user_index_prefix = "session:u"}, "extends key_prefix");
  refused({.key_prefix = "idx:ab", .user_index_prefix = "idx:"}, "extends user_index_prefix");
  // What is fine: the defaults, and prefixes told apart by a ':'.
  EXPECT_NO_THROW(RedisSessionRepository(Commands(), io.get_executor()));
  EXPECT_NO_THROW(RedisSessionRepository(Commands(), io.get_executor(),
                                         {.key_prefix = "s:", .user_index_prefix = "s:u:"}));
}

}  // namespace
}  // namespace asyncredis
