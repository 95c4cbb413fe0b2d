// RedisSessionRepository against a real redis-server: create, get, save, remove and touch, the
// stored bytes and expiry, the Python seed's format both ways, and every error path.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <vector>

#include <boost/asio/use_future.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
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

std::string fixture(const char* name) {
  const auto path = std::filesystem::path(ASYNCREDIS_TEST_FIXTURES) / name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using test::error_of;

class Sessions : public test::SharedServerTest {
 protected:
  // Runs body with a client on the sessions database (as the Python services keep it) and a
  // repository over it.
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

TEST_F(Sessions, CreateThenGetRoundTrips) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const nlohmann::json data = {{"role", "admin"}, {"theme", "dark"}};
    const auto before = system_clock::now();
    const Session s = co_await repo.create(kAlice, 1h, data, use_awaitable);
    const auto after = system_clock::now();
    EXPECT_EQ(s.id.size(), kSessionIdLength);
    EXPECT_EQ(s.user_id, kAlice);
    EXPECT_EQ(s.data, data);
    EXPECT_GE(s.created_at, std::chrono::floor<std::chrono::microseconds>(before));
    EXPECT_LE(s.created_at, after);
    EXPECT_EQ(s.expires_at, s.created_at + 1h);
    EXPECT_EQ(co_await repo.get(s.id, use_awaitable), s);
    // The key is where the Python seed looks, in the sessions database (3; a cluster has 0).
    EXPECT_EQ(c.database(), server_->is_cluster() ? 0 : 3);
    EXPECT_EQ(co_await c.exists(repo.key_of(s.id), use_awaitable), 1);
    EXPECT_EQ(repo.key_of(s.id), "session:" + s.id);
  });
}

TEST_F(Sessions, StoredBytesAreTheSeedsJsonAndExpireAtExpiresAt) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session s = co_await repo.create(kAlice, 90min, use_awaitable);
    const std::string key = repo.key_of(s.id);
    const auto raw = co_await c.get(key, use_awaitable);
    EXPECT_EQ(raw, encode_session(s));
    // Field by field, the way the seed's get() reads them.
    const auto json = nlohmann::ordered_json::parse(*raw);
    std::vector<std::string> names;
    for (const auto& [name, value] : json.items()) names.push_back(name);
    EXPECT_EQ(names,
              (std::vector<std::string>{"id", "user_id", "created_at", "expires_at", "data"}));
    EXPECT_EQ(json["id"], s.id);
    EXPECT_EQ(json["user_id"], "1b4e28ba-2fa1-11d2-883f-0016d3cca427");
    const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00)");
    for (const char* field : {"created_at", "expires_at"}) {
      const std::string text = json[field].get<std::string>();
      EXPECT_TRUE(std::regex_match(text, iso)) << text;
    }
    EXPECT_EQ(parse_iso8601(json["created_at"].get<std::string>()), s.created_at);
    EXPECT_EQ(parse_iso8601(json["expires_at"].get<std::string>()), s.expires_at);
    EXPECT_EQ(json["data"], nlohmann::ordered_json::object());
    // Absolute expiry (PXAT): the key dies exactly at expires_at, to the millisecond.
    EXPECT_EQ(co_await c.command<std::int64_t>("PEXPIRETIME", key, use_awaitable),
              ms_of(s.expires_at));
    const auto pttl = co_await c.pttl(key, use_awaitable);
    const auto expected = ms_of(s.expires_at) - ms_of(system_clock::now());
    EXPECT_LE(pttl, expected + 5);
    EXPECT_GE(pttl, expected - 1000);
  });
}

TEST_F(Sessions, ReadsTheSeedsFixtureAndTheSeedReadsOurTouch) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const std::string text = fixture("session_seed.json");
    const std::string id = "Qm9vbS1zZXNzaW9uLWlkLWZyb20tcHl0aG9uLXNlZWQ";
    const std::string key = repo.key_of(id);
    SetOptions ex;  // the seed: set(key, json, ex=ttl)
    ex.ttl = 1h;
    co_await c.set(key, text, ex, use_awaitable);
    const auto s = co_await repo.get(id, use_awaitable);
    EXPECT_TRUE(s.has_value());
    if (!s) co_return;
    EXPECT_EQ(s->user_id, kAlice);
    EXPECT_EQ(format_iso8601(s->created_at), "2026-11-27T05:53:27.123456+00:00");
    EXPECT_EQ(format_iso8601(s->expires_at), "2096-11-27T05:53:27.654321+00:00");
    EXPECT_EQ(s->data, nlohmann::json::object());
    // Not indexed by the seed; a touch indexes it and keeps every field as the seed wrote it.
    // (A lifetime cap longer than the fixture's age keeps this test valid in years to come.)
    EXPECT_TRUE((co_await repo.list_for_user(kAlice, use_awaitable)).empty());
    SessionOptions long_lived_options;
    long_lived_options.max_lifetime = std::chrono::days(365 * 60);
    RedisSessionRepository long_lived(c, long_lived_options);
    const auto touched = co_await long_lived.touch(id, 2h, use_awaitable);
    EXPECT_TRUE(touched.has_value());
    if (!touched) co_return;
    EXPECT_EQ((co_await repo.list_for_user(kAlice, use_awaitable)).size(), 1u);
    const auto original = nlohmann::ordered_json::parse(text);
    const auto after = nlohmann::ordered_json::parse(*co_await c.get(key, use_awaitable));
    EXPECT_EQ(after.size(), original.size()) << after.dump();
    if (after.size() != original.size()) co_return;
    for (auto a = after.begin(), o = original.begin(); a != after.end(); ++a, ++o) {
      EXPECT_EQ(a.key(), o.key()) << "field order kept";
      if (a.key() != "expires_at") EXPECT_EQ(a.value(), o.value()) << a.key();
    }
    EXPECT_EQ(after["expires_at"], format_iso8601(touched->expires_at));
  });
}

TEST_F(Sessions, CreateNeverOverwritesAnExistingId) {
  std::vector<std::string> ids = {"taken", "taken", "fresh"};
  SessionOptions options;
  options.id_generator = [&ids] {
    std::string id = ids.front();
    ids.erase(ids.begin());
    return id;
  };
  run(
      [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        co_await c.set("session:taken", "someone else's", use_awaitable);
        const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
        EXPECT_EQ(s.id, "fresh");
        EXPECT_EQ(co_await c.get("session:taken", use_awaitable), "someone else's");
        EXPECT_TRUE((co_await repo.get("fresh", use_awaitable)).has_value());
      },
      options);
}

TEST_F(Sessions, CreateGivesUpOnAGeneratorThatRepeatsItself) {
  SessionOptions options;
  int calls = 0;
  options.id_generator = [&calls] {
    ++calls;
    return std::string("always-the-same");
  };
  run(
      [&calls](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        co_await c.set("session:always-the-same", "kept", use_awaitable);
        const Error e = co_await error_of(repo.create(kAlice, 1h, use_awaitable));
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting)) << e.what();
        EXPECT_NE(e.message().find("8 ids in a row"), std::string::npos) << e.message();
        EXPECT_EQ(calls, 8);
        EXPECT_EQ(co_await c.get("session:always-the-same", use_awaitable), "kept");
      },
      options);
  SessionOptions bad_ids;
  bad_ids.id_generator = [] { return std::string("user:1b4e28ba-2fa1-11d2-883f-0016d3cca427"); };
  run(
      [](RedisClient&, RedisSessionRepository& repo) -> asio::awaitable<void> {
        const Error e = co_await error_of(repo.create(kAlice, 1h, use_awaitable));
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting)) << e.what();
        EXPECT_NE(e.message().find("invalid id"), std::string::npos) << e.message();
      },
      bad_ids);
}

TEST_F(Sessions, CreateRefusesBadArgumentsAndCapsTheTtl) {
  SessionOptions options;
  options.max_lifetime = 10min;
  run(
      [](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
        for (const auto ttl : {0ms, -5ms}) {
          const Error e = co_await error_of(repo.create(kAlice, ttl, use_awaitable));
          EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
          EXPECT_NE(e.message().find("ttl must be positive"), std::string::npos) << e.message();
        }
        const nlohmann::json array = {1, 2};
        const Error e = co_await error_of(repo.create(kAlice, 1h, array, use_awaitable));
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0) << "nothing stored";

        const Session capped = co_await repo.create(kAlice, 5h, use_awaitable);
        EXPECT_EQ(capped.expires_at, capped.created_at + 10min);
      },
      options);
}

TEST_F(Sessions, SaveReplacesDataAndExpiry) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    s.data = {{"cart", {1, 2, 3}}};
    s.expires_at += 2h;
    EXPECT_EQ(co_await repo.save(s, use_awaitable), SaveResult::stored);
    EXPECT_EQ(co_await repo.get(s.id, use_awaitable), s);
    EXPECT_EQ(co_await c.command<std::int64_t>("PEXPIRETIME", repo.key_of(s.id), use_awaitable),
              ms_of(s.expires_at));
    const auto score = co_await c.command<std::optional<double>>(
        "ZSCORE", repo.index_key_of(kAlice), s.id, use_awaitable);
    EXPECT_EQ(score, static_cast<double>(ms_of(s.expires_at)));
  });
}

TEST_F(Sessions, SaveOfAnExpiredSessionRemovesItInsteadOfStoringIt) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    s.expires_at = system_clock::now() - 1s;
    EXPECT_EQ(co_await repo.save(s, use_awaitable), SaveResult::expired);
    EXPECT_EQ(co_await c.exists(repo.key_of(s.id), use_awaitable), 0);
    EXPECT_EQ(co_await repo.get(s.id, use_awaitable), std::nullopt);
    EXPECT_EQ(co_await c.command<std::optional<double>>("ZSCORE", repo.index_key_of(kAlice), s.id,
                                                        use_awaitable),
              std::nullopt);
    // Exactly now counts as expired too; and an expired save of an unknown session stores
    // nothing (the seed stored it with a TTL of 1 s).
    Session now = co_await repo.create(kAlice, 1h, use_awaitable);
    now.expires_at = system_clock::now();
    EXPECT_EQ(co_await repo.save(now, use_awaitable), SaveResult::expired);
    Session unknown = s;
    unknown.id = "never-stored";
    EXPECT_EQ(co_await repo.save(unknown, use_awaitable), SaveResult::missing);
    EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0);
  });
}

TEST_F(Sessions, SaveAfterRemoveDoesNotBringTheSessionBack) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    EXPECT_TRUE(co_await repo.remove(s.id, use_awaitable));
    EXPECT_EQ(co_await repo.save(s, use_awaitable), SaveResult::missing);
    EXPECT_EQ(co_await c.exists(repo.key_of(s.id), use_awaitable), 0);
    EXPECT_EQ(co_await repo.get(s.id, use_awaitable), std::nullopt);
    EXPECT_FALSE(co_await repo.remove(s.id, use_awaitable));
    EXPECT_TRUE((co_await repo.list_for_user(kAlice, use_awaitable)).empty());
    EXPECT_EQ(co_await c.exists(repo.index_key_of(kAlice), use_awaitable), 0);
  });
}

TEST_F(Sessions, RacingSaveAndRemoveAlwaysEndRemoved) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    constexpr int kRounds = 200;
    std::vector<Session> sessions;
    for (int i = 0; i < kRounds; ++i)
      sessions.push_back(co_await repo.create(kAlice, 1h, use_awaitable));
    int pending = 2 * kRounds;
    int saves_refused = 0;
    int failures = 0;
    for (int i = 0; i < kRounds; ++i) {
      Session changed = sessions[i];
      changed.data = {{"round", i}};
      auto on_save = [&](std::exception_ptr e, SaveResult r) {
        failures += e ? 1 : 0;
        saves_refused += r == SaveResult::missing ? 1 : 0;
        --pending;
      };
      auto on_remove = [&](std::exception_ptr e, bool) {
        failures += e ? 1 : 0;
        --pending;
      };
      // Alternate which one starts first, so both orders reach Redis.
      if (i % 2 == 0) {
        repo.save(changed, on_save);
        repo.remove(sessions[i].id, on_remove);
      } else {
        repo.remove(sessions[i].id, on_remove);
        repo.save(changed, on_save);
      }
    }
    CO_ASSERT_TRUE(co_await test::eventually([&] { return pending == 0; }));
    EXPECT_EQ(failures, 0);
    EXPECT_GT(saves_refused, 0) << "some saves must have come after their remove";
    EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0)
        << "every session and the index are gone";
  });
}

TEST_F(Sessions, SaveNeverMovesASessionToAnotherUser) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    const auto before = co_await c.get(repo.key_of(s.id), use_awaitable);
    Session stolen = s;
    stolen.user_id = kBob;
    const Error e = co_await error_of(repo.save(stolen, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_NE(e.message().find("user_id cannot change"), std::string::npos) << e.message();
    EXPECT_EQ(co_await c.get(repo.key_of(s.id), use_awaitable), before);
    EXPECT_EQ(co_await c.exists(repo.index_key_of(kBob), use_awaitable), 0);
  });
}

TEST_F(Sessions, SaveRefusesInvalidIdsAndData) {
  run([](RedisClient&, RedisSessionRepository& repo) -> asio::awaitable<void> {
    Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    Session bad_id = s;
    bad_id.id = "user:" + kAlice.to_string();
    Error e = co_await error_of(repo.save(bad_id, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_NE(e.message().find("is not valid"), std::string::npos) << e.message();
    s.data = "a string";
    e = co_await error_of(repo.save(s, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_NE(e.message().find("JSON object"), std::string::npos) << e.message();
  });
}

TEST_F(Sessions, GetAnswersNothingForUnknownInvalidAndExpiredSessions) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    EXPECT_EQ(co_await repo.get("no-such-session", use_awaitable), std::nullopt);
    // A forged id naming the index (or anything else) is not looked up at all.
    const Session s = co_await repo.create(kAlice, 1h, use_awaitable);
    const std::string index_id = "user:" + kAlice.to_string();
    EXPECT_EQ(co_await repo.get(index_id, use_awaitable), std::nullopt);
    EXPECT_EQ(co_await repo.get("", use_awaitable), std::nullopt);
    EXPECT_FALSE(co_await repo.remove(index_id, use_awaitable));
    EXPECT_EQ(co_await c.exists(repo.index_key_of(kAlice), use_awaitable), 1);
    // Over by our clock though Redis still has the key (say, written by a service whose
    // clock is behind): not a session any more.
    Session late = s;
    late.id = "late";
    late.expires_at = system_clock::now() - 1ms;
    co_await c.set("session:late", encode_session(late), use_awaitable);
    EXPECT_EQ(co_await repo.get("late", use_awaitable), std::nullopt);
  });
}

TEST_F(Sessions, MalformedStoredValuesAreDecodeErrorsNamingTheKey) {
  run([](RedisClient& c, RedisSessionRepository& repo) -> asio::awaitable<void> {
    const Session good = co_await repo.create(kAlice, 1h, use_awaitable);
    nlohmann::json other_id = nlohmann::json::parse(encode_session(good));
    other_id["id"] = "someone-else";
    const std::pair<const char*, std::string> cases[] = {
        {"not-json", "{oops"},
        {"no-user", R"({"id": "no-user", "created_at": "2026-11-27T05:53:27+00:00"})"},
        {"bad-uuid",
         R"({"id": "bad-uuid", "user_id": "alice", "created_at": "x", "expires_at": "y"})"},
        {"bad-time", R"({"id": "bad-time", "user_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",)"
                     R"( "created_at": "yesterday", "expires_at": "2096-01-01T00:00:00+00:00"})"},
        {"other-id", other_id.dump()},
    };
    for (const auto& [id, text] : cases) {
      const std::string key = std::string("session:") + id;
      co_await c.set(key, text, use_awaitable);
      const std::string session_id = id;
      Error e = co_await error_of(repo.get(session_id, use_awaitable));
      EXPECT_EQ(e.code(), make_error_code(errc::decode_error)) << id << ": " << e.what();
      EXPECT_NE(e.message().find("\"" + key + "\""), std::string::npos) << e.message();
      e = co_await error_of(repo.touch(session_id, 1h, use_awaitable));
      EXPECT_EQ(e.code(), make_error_code(errc::decode_error)) << id << ": " << e.what();
      EXPECT_NE(e.message().find("\"" + key + "\""), std::string::npos) << e.message();
      // An unreadable session can still be removed.
      EXPECT_TRUE(co_await repo.remove(session_id, use_awaitable));
    }
    // Another type at the key is Redis's error, passed on.
    co_await c.hset("session:hash", "f", "v", use_awaitable);
    const Error e = co_await error_of(repo.get("hash", use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::server_error));
    EXPECT_NE(e.message().find("WRONGTYPE"), std::string::npos) << e.message();
  });
}

}  // namespace
}  // namespace asyncredis
