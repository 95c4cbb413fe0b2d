// A user limited by ACL: every refusal (a key, a command, a channel; alone, in a pipeline, in a
// transaction, among concurrent requests) is a server_error carrying Redis's NOPERM text, and
// the connection that carried it stays the same one (the Connection.AclUsers test checks only
// that a later command works, which a reconnect would also allow).
#include <gtest/gtest.h>

#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using test::eventually;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using namespace std::chrono_literals;

const std::vector<std::string> kUsers = {
    "user default on nopass ~* &* +@all",
    // May touch cache:* keys and news:* channels, anything but FLUSHALL.
    "user alice on >wonderland ~cache:* resetchannels &news:* +@all -flushall",
    // Everything but SELECT.
    "user bob on >builder ~* &* +@all -select",
};

RedisSettings as_user(const test::RedisServer& server, const char* user, const char* password) {
  RedisSettings settings = server.settings();
  settings.username = user;
  settings.password = password;
  settings.max_connections = 1;  // so CLIENT ID names the one connection every command uses
  return settings;
}

// Awaits `op`, expecting it to fail with server_error and Redis's NOPERM text.
template <class Awaitable>
asio::awaitable<void> expect_noperm(Awaitable op, const char* what) {
  try {
    co_await std::move(op);
    ADD_FAILURE() << what << " was allowed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << what << ": " << e.message();
    EXPECT_NE(e.message().find("NOPERM"), std::string::npos) << what << ": " << e.message();
  }
}

TEST(Acl, RefusalsAreServerErrorsOnTheSameConnection) {
  test::RedisServer server({.acl_users = kUsers});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    const RedisSettings alice = as_user(server, "alice", "wonderland");
    RedisClient client(io.get_executor(), alice);
    co_await client.connect(use_awaitable);
    const auto id = co_await client.command<std::int64_t>("CLIENT", "ID", use_awaitable);

    co_await expect_noperm(client.set("elsewhere", 1, use_awaitable), "a key outside ~cache:*");
    co_await expect_noperm(client.command<std::string>("FLUSHALL", use_awaitable), "FLUSHALL");
    co_await expect_noperm(client.publish("sports", "goal", use_awaitable), "a channel");
    EXPECT_EQ(co_await client.publish("news:today", "ok", use_awaitable), 0);

    // In a pipeline the refusal is that command's reply; its neighbours run.
    Pipeline mixed;
    mixed.add("SET", "cache:a", "1").add("SET", "elsewhere", "1").add("GET", "cache:a");
    const std::vector<Reply> replies = co_await client.execute(mixed, use_awaitable);
    CO_ASSERT_EQ(replies.size(), 3u);
    EXPECT_FALSE(replies[0].is_error());
    EXPECT_TRUE(replies[1].is_error());
    EXPECT_TRUE(replies[1].str().starts_with("NOPERM")) << replies[1].str();
    EXPECT_EQ(replies[2].as<std::string>(), "1");

    // In a transaction Redis refuses it while queueing, so EXEC aborts the whole block.
    Pipeline block;
    block.add("INCR", "cache:n").add("INCR", "elsewhere");
    try {
      co_await client.transaction(block, use_awaitable);
      ADD_FAILURE() << "the transaction ran";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << e.message();
      EXPECT_TRUE(e.message().starts_with("EXECABORT")) << e.message();
    }
    EXPECT_EQ(server.cli({"EXISTS", "cache:n"}), "0");

    // Concurrent, automatically pipelined: each caller gets its own outcome.
    int allowed = 0, refused = 0, wrong = 0, done = 0;
    for (int i = 0; i < 200; ++i) {
      const std::string key = (i % 2 == 0 ? "cache:k" : "other:k") + std::to_string(i);
      client.set(key, i, [&, i](std::exception_ptr e, bool) {
        const bool should_pass = i % 2 == 0;
        if (!e && should_pass) {
          ++allowed;
        } else if (e && !should_pass && error_code_of(e) == make_error_code(errc::server_error) &&
                   error_message_of(e).starts_with("NOPERM")) {
          ++refused;
        } else {
          ++wrong;
        }
        ++done;
      });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return done == 200; }))
    EXPECT_EQ(allowed, 100);
    EXPECT_EQ(refused, 100);
    EXPECT_EQ(wrong, 0);

    // Nothing above cost the connection.
    EXPECT_EQ(co_await client.command<std::int64_t>("CLIENT", "ID", use_awaitable), id);
    EXPECT_EQ(client.stats().reconnects, 0u);
    EXPECT_EQ(client.stats().connected, 1u);
  });
}

TEST(Acl, RefusedHandshakeStepIsAServerErrorNamingIt) {
  test::RedisServer server({.acl_users = kUsers});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings bob = as_user(server, "bob", "builder");
    bob.cache_db = 1;  // SELECT 1 in the handshake, which bob may not run
    RedisClient client(io.get_executor(), bob);
    try {
      co_await client.connect(use_awaitable);
      ADD_FAILURE() << "connected although SELECT is refused";
    } catch (const Error& e) {
      // The credentials were right: not auth_failed, and not a lost connection either.
      EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << e.message();
      EXPECT_NE(e.message().find("SELECT 1"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("NOPERM"), std::string::npos) << e.message();
    }
    RedisSettings db0 = as_user(server, "bob", "builder");  // no SELECT needed
    RedisClient fine(io.get_executor(), db0);
    co_await fine.connect(use_awaitable);
    EXPECT_EQ(co_await fine.command<std::string>("ACL", "WHOAMI", use_awaitable), "bob");
  });
}

}  // namespace
}  // namespace asyncredis
