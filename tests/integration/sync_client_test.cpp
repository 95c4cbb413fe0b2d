// SyncClient: the blocking facade over a real redis-server.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "asyncredis/sync_client.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;

class SyncClientTest : public test::SharedServerTest {};

TEST_F(SyncClientTest, TypedMethodsReturnValues) {
  SyncClient redis(server_->settings());
  EXPECT_TRUE(redis.set("greeting", "hello"));
  EXPECT_EQ(redis.get("greeting"), std::optional<std::string>("hello"));
  EXPECT_EQ(redis.get("missing"), std::nullopt);
  EXPECT_EQ(redis.incrby("counter", 5), 5);
  EXPECT_EQ(redis.del("greeting"), 1);
  EXPECT_EQ(redis.command<std::string>("ECHO", "x"), "x");
}

TEST_F(SyncClientTest, ErrorReplyThrowsServerError) {
  SyncClient redis(server_->settings());
  redis.set("text", "not a number");
  try {
    redis.incr("text");
    FAIL() << "INCR of a string must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::server_error);
    EXPECT_NE(std::string(e.what()).find("not an integer"), std::string::npos) << e.what();
  }
}

TEST_F(SyncClientTest, RefusedCommandThrowsInvalidArgument) {
  SyncClient redis(server_->settings());
  try {
    redis.command("BLPOP", "list", 1);
    FAIL() << "BLPOP on the shared pool must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

TEST_F(SyncClientTest, ConnectFailureThrowsFromTheConstructor) {
  RedisSettings settings;
  settings.host = "127.0.0.1";
  settings.port = test::free_port();
  settings.connect_timeout = 2s;
  try {
    SyncClient redis(settings);
    FAIL() << "nothing listens on port " << settings.port;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::not_connected) << e.what();
  }
}

TEST_F(SyncClientTest, BadSettingThrowsNamingIt) {
  RedisSettings settings = server_->settings();
  settings.max_connections = 0;
  try {
    SyncClient redis(settings);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_setting);
    EXPECT_NE(std::string(e.what()).find("max_connections"), std::string::npos) << e.what();
  }
}

TEST_F(SyncClientTest, TimeoutThrows) {
  test::RedisServer own;
  SyncClient redis(own.settings());
  own.suspend();  // SIGSTOP: the server reads nothing until resumed
  SyncCommands quick = redis.with_timeout(100ms);
  try {
    quick.get("k");
    own.resume();
    FAIL() << "the call must time out";
  } catch (const Error& e) {
    own.resume();
    EXPECT_EQ(e.code(), errc::timeout);
  }
}

TEST_F(SyncClientTest, LeaseRunsBlockingCommands) {
  SyncClient redis(server_->settings());
  SyncLease lease = redis.lease();
  redis.command("RPUSH", "queue", "job");
  const auto popped = lease.blpop("queue", 1s);
  ASSERT_TRUE(popped.has_value());
  EXPECT_EQ(popped->second, "job");
  EXPECT_EQ(lease.blpop("queue", 100ms), std::nullopt);  // times out on the server: nil
}

TEST_F(SyncClientTest, BlockingCallOnItsOwnIoThreadIsRefused) {
  SyncClient redis(server_->settings());
  std::atomic<int> code{-1};
  std::atomic<bool> done{false};
  redis.async_client().ping([&](std::exception_ptr, std::string) {
    try {
      redis.get("k");  // would wait for the thread it runs on
      code = 0;
    } catch (const Error& e) {
      code = static_cast<int>(e.code().value());
    }
    done = true;
  });
  ASSERT_TRUE(test::wait_until([&] { return done.load(); }, 10s));
  EXPECT_EQ(code.load(), static_cast<int>(errc::invalid_argument));
}

TEST_F(SyncClientTest, AsynchronousUsersAreServedWhileNoCallerBlocks) {
  SyncClient redis(server_->settings());
  redis.set("k", "v");
  // No thread is inside a blocking call: the background thread must run the event loop.
  std::atomic<bool> got{false};
  redis.async_client().get("k", [&](std::exception_ptr error, std::optional<std::string> v) {
    got = !error && v == "v";
  });
  EXPECT_TRUE(test::wait_until([&] { return got.load(); }, 10s));
}

TEST_F(SyncClientTest, DestructorReturnsWhenTheServerIsGone) {
  test::RedisServer own;
  auto redis = std::make_unique<SyncClient>(own.settings());
  redis->set("k", "v");
  own.stop();
  const auto start = std::chrono::steady_clock::now();
  redis.reset();  // disconnect() is bounded; the io thread is joined
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

}  // namespace
}  // namespace asyncredis
