// Subscriber against real redis-servers: channels, patterns and shard channels, payloads of
// every kind, slow consumers, lost connections and restarted servers, and the ways receive()
// ends.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"
#include "support/subscriber_wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::eventually;
using test::failure_of;
using test::next_message;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using Kind = Message::Kind;

class Subscribers : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static inline test::RedisServer* server_ = nullptr;
};

// An expected message, built outside the coroutines (GCC 12 miscompiles aggregates with string
// literals inside one: "array used as initializer").
Message expected(Kind kind, std::string channel, std::string payload, std::string pattern = {}) {
  return Message{kind, std::move(pattern), std::move(channel), std::move(payload), 0};
}

std::vector<KeyspaceEvent> set_expire_del(const std::string& key) {
  return {{"set", key, 0}, {"expire", key, 0}, {"del", key, 0}};
}

TEST_F(Subscribers, ChannelsAndPatterns) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    // Named: GCC 12 cannot hold a braced list inside a co_await expression (README).
    const std::vector<std::string> news_and_sport{"news", "sport"};
    co_await sub.subscribe(news_and_sport, use_awaitable);
    co_await sub.psubscribe("user:*", use_awaitable);
    EXPECT_EQ(sub.stats().channels, 2u);
    EXPECT_EQ(sub.stats().patterns, 1u);
    EXPECT_EQ(co_await client.publish("news", "hello", use_awaitable), 1);
    EXPECT_EQ(co_await client.publish("user:7", "signed in", use_awaitable), 1);
    EXPECT_EQ(co_await client.publish("weather", "nobody listens", use_awaitable), 0);
    EXPECT_EQ(co_await client.publish("sport", "goal", use_awaitable), 1);
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m, expected(Kind::message, "news", "hello"));
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m, expected(Kind::pmessage, "user:7", "signed in", "user:*"));
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->channel, "sport");
    // What the server says of its subscribers (typed PUBSUB commands).
    auto channels = co_await client.pubsub_channels(use_awaitable);
    EXPECT_EQ(std::set<std::string>(channels.begin(), channels.end()),
              (std::set<std::string>{"news", "sport"}));
    const auto matching = co_await client.pubsub_channels("n*", use_awaitable);
    EXPECT_EQ(matching, std::vector<std::string>{"news"});
    const std::vector<std::string> asked{"news", "weather"};  // named: see README (GCC 12)
    auto counts = co_await client.pubsub_numsub(asked, use_awaitable);
    EXPECT_EQ(counts.at("news"), 1);
    EXPECT_EQ(counts.at("weather"), 0);
    // Unsubscribed: no longer delivered.
    co_await sub.unsubscribe("news", use_awaitable);
    co_await sub.punsubscribe("user:*", use_awaitable);
    EXPECT_EQ(co_await client.publish("news", "gone", use_awaitable), 0);
    EXPECT_EQ(co_await client.publish("user:8", "gone", use_awaitable), 0);
    EXPECT_EQ(sub.stats().channels, 1u);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, ShardChannels) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    co_await sub.ssubscribe("orders", use_awaitable);
    EXPECT_EQ(co_await client.command<std::int64_t>("SPUBLISH", "orders", "o-1", use_awaitable), 1);
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(*m, expected(Kind::smessage, "orders", "o-1"));
    co_await sub.sunsubscribe("orders", use_awaitable);
    EXPECT_EQ(co_await client.command<std::int64_t>("SPUBLISH", "orders", "o-2", use_awaitable), 0);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, ManyChannelsBinaryAndLargePayloads) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    std::vector<std::string> channels;
    for (int i = 0; i < 500; ++i) channels.push_back("ch:" + std::to_string(i));
    co_await sub.subscribe(channels, use_awaitable);
    for (const auto& channel : channels) co_await client.publish(channel, channel, use_awaitable);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < channels.size(); ++i) {
      auto m = co_await next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->payload, m->channel);
      seen.insert(m->channel);
    }
    EXPECT_EQ(seen.size(), channels.size());
    std::string binary("\0\r\n\xff*3\r\n", 8);
    std::string large(1 << 20, 'x');
    for (std::size_t i = 0; i < large.size(); i += 4096) large[i] = static_cast<char>(i / 4096);
    co_await client.publish("ch:0", binary, use_awaitable);
    co_await client.publish("ch:1", large, use_awaitable);
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, binary);
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, large);
    co_await client.disconnect(use_awaitable);
  });
}

// 10,000 messages to a consumer that does not read: the buffer keeps the newest 100, and the
// first message taken says how many were dropped before it.
TEST_F(Subscribers, ASlowConsumerLosesTheOldestAndIsTold) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client, {.max_messages = 100});
    co_await sub.subscribe("firehose", use_awaitable);
    constexpr int kMessages = 10'000;
    Pipeline burst;
    for (int i = 0; i < kMessages; ++i) burst.add("PUBLISH", "firehose", i);
    co_await client.execute(burst, use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return sub.stats().received == kMessages; }));
    EXPECT_EQ(sub.stats().buffered, 100u);
    EXPECT_EQ(sub.stats().dropped, static_cast<std::uint64_t>(kMessages - 100));
    auto first = co_await next_message(sub);
    CO_ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->dropped, static_cast<std::size_t>(kMessages - 100));
    EXPECT_EQ(first->payload, std::to_string(kMessages - 100));
    for (int i = kMessages - 99; i < kMessages; ++i) {
      auto m = co_await next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->payload, std::to_string(i));
      EXPECT_EQ(m->dropped, 0u);
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, ASlowConsumerIsDisconnectedWhenItSaysSo) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client,
                   {.max_messages = 100, .when_full = SubscriberOptions::WhenFull::disconnect});
    co_await sub.subscribe("firehose", use_awaitable);
    Pipeline burst;
    for (int i = 0; i < 10'000; ++i) burst.add("PUBLISH", "firehose", i);
    co_await client.execute(burst, use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return sub.stats().received > 100; }));
    // What was buffered is handed over, then the overflow.
    for (int i = 0; i < 100; ++i) {
      auto m = co_await next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->payload, std::to_string(i));
    }
    EXPECT_EQ(co_await failure_of(sub.receive(use_awaitable)), errc::overloaded);
    EXPECT_EQ(co_await failure_of(sub.subscribe("more", use_awaitable)), errc::overloaded);
    // Its connection is gone from the server.
    EXPECT_TRUE(co_await eventually([&] {
      return server_->cli({"PUBSUB", "NUMSUB", "firehose"}).ends_with("0");
    }));
    co_await client.disconnect(use_awaitable);
  });
}

// A dropped connection: the subscriber reconnects, subscribes again to everything, says so
// before anything else, and no message comes twice.
TEST(SubscriberReconnects, AfterTheConnectionIsReset) {
  test::RedisServer server;
  test::FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxy.settings(server.settings());
    settings.reconnect_min_delay = 10ms;
    settings.reconnect_max_delay = 50ms;
    RedisClient client(io.get_executor(), server.settings());
    RedisClient through_proxy(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    Subscriber sub(through_proxy);
    co_await sub.subscribe("a", use_awaitable);
    co_await sub.psubscribe("b:*", use_awaitable);
    co_await client.publish("a", "before", use_awaitable);
    auto m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "before");
    proxy.reset_all();
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->kind, Kind::resubscribed);
    EXPECT_EQ(sub.stats().resubscribed, 1u);
    CO_ASSERT_TRUE(co_await eventually([&] {
      return server.cli({"PUBSUB", "NUMSUB", "a"}).find("1") != std::string::npos;
    }));
    EXPECT_EQ(co_await client.publish("a", "after", use_awaitable), 1);
    EXPECT_EQ(co_await client.publish("b:1", "pattern after", use_awaitable), 1);
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "after");
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "pattern after");
    // Nothing twice: one more message is the next thing received.
    co_await client.publish("a", "last", use_awaitable);
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "last");
    co_await client.disconnect(use_awaitable);
  });
}

TEST(SubscriberReconnects, AfterTheServerRestarts) {
  test::RedisServer server;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.reconnect_min_delay = 10ms;
    settings.reconnect_max_delay = 100ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    co_await sub.subscribe("jobs", use_awaitable);
    server.stop();
    server.start();
    auto m = co_await next_message(sub, 20s);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->kind, Kind::resubscribed);
    CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected > 0; }));
    EXPECT_EQ(co_await client.publish("jobs", "j1", use_awaitable), 1);
    m = co_await next_message(sub);
    CO_ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->payload, "j1");
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, HowReceiveEnds) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    {
      // Cancelled through its slot.
      Subscriber sub(client);
      co_await sub.subscribe("quiet", use_awaitable);
      asio::cancellation_signal signal;
      std::exception_ptr failure;
      bool done = false;
      sub.receive(asio::bind_cancellation_slot(signal.slot(),
                                               [&](std::exception_ptr e, std::optional<Message>) {
                                                 failure = e;
                                                 done = true;
                                               }));
      signal.emit(asio::cancellation_type::terminal);
      CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
      EXPECT_EQ(code_of(failure), errc::cancelled);
      // Unsubscribing leaves a pending receive() pending; the next message still reaches it.
      co_await sub.subscribe("other", use_awaitable);
      std::optional<Message> got;
      done = false;
      sub.receive([&](std::exception_ptr e, std::optional<Message> m) {
        EXPECT_FALSE(e);
        got = std::move(m);
        done = true;
      });
      co_await sub.unsubscribe("quiet", use_awaitable);
      EXPECT_FALSE(done);
      co_await client.publish("other", "still here", use_awaitable);
      CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
      CO_ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->payload, "still here");
      // close(): what is buffered, then the end.
      co_await client.publish("other", "buffered", use_awaitable);
      CO_ASSERT_TRUE(co_await eventually([&] { return sub.stats().buffered == 1; }));
      sub.close();
      auto m = co_await sub.receive(use_awaitable);
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->payload, "buffered");
      EXPECT_FALSE((co_await sub.receive(use_awaitable)).has_value());
      EXPECT_EQ(co_await failure_of(sub.subscribe("again", use_awaitable)), errc::shutting_down);
    }
    {
      // Destroyed with a receive() pending.
      std::exception_ptr failure;
      bool done = false;
      {
        Subscriber sub(client);
        co_await sub.subscribe("quiet", use_awaitable);
        sub.receive([&](std::exception_ptr e, std::optional<Message>) {
          failure = e;
          done = true;
        });
      }
      CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
      EXPECT_EQ(code_of(failure), errc::shutting_down);
    }
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, TryReceiveTakesWhatIsBufferedWithoutWaiting) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    co_await sub.subscribe("batch", use_awaitable);
    EXPECT_FALSE(sub.try_receive().has_value()) << "nothing buffered yet";
    for (const char* payload : {"1", "2", "3"}) {
      co_await client.publish("batch", payload, use_awaitable);
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return sub.stats().buffered == 3; }));
    for (const char* payload : {"1", "2", "3"}) {
      auto m = sub.try_receive();
      CO_ASSERT_TRUE(m.has_value());
      EXPECT_EQ(m->payload, payload);
    }
    EXPECT_FALSE(sub.try_receive().has_value());
    EXPECT_EQ(sub.stats().buffered, 0u);
    // A receive() that waits comes first: the next message is its, not try_receive()'s.
    std::optional<Message> got;
    bool done = false;
    sub.receive([&](std::exception_ptr e, std::optional<Message> m) {
      EXPECT_FALSE(e);
      got = std::move(m);
      done = true;
    });
    co_await client.publish("batch", "4", use_awaitable);
    EXPECT_FALSE(sub.try_receive().has_value());
    CO_ASSERT_TRUE(co_await eventually([&] { return done; }));
    CO_ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->payload, "4");
    // After close(), what was buffered is still there to take.
    co_await client.publish("batch", "5", use_awaitable);
    CO_ASSERT_TRUE(co_await eventually([&] { return sub.stats().buffered == 1; }));
    sub.close();
    auto last = sub.try_receive();
    CO_ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->payload, "5");
    EXPECT_FALSE(sub.try_receive().has_value());
    EXPECT_FALSE((co_await sub.receive(use_awaitable)).has_value());
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, WhatItRefuses) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings());
    co_await client.connect(use_awaitable);
    Subscriber sub(client);
    const std::vector<std::string> none;
    EXPECT_EQ(co_await failure_of(sub.subscribe(none, use_awaitable)), errc::invalid_argument);
    EXPECT_THROW(Subscriber(client, {.max_messages = 0}), Error);
    // A user without the right to subscribe: the server's refusal, for the channel asked.
    server_->cli(
        {"ACL", "SETUSER", "nosub", "on", ">pw", "~*", "+@all", "-subscribe", "resetchannels"});
    RedisSettings settings = server_->settings();
    settings.username = "nosub";
    settings.password = "pw";
    RedisClient limited(io.get_executor(), settings);
    co_await limited.connect(use_awaitable);
    Subscriber refused(limited);
    EXPECT_EQ(co_await failure_of(refused.subscribe("news", use_awaitable)), errc::server_error);
    EXPECT_EQ(refused.stats().channels, 0u);
    // A wrong password: the first subscription says so.
    settings.password = "wrong";
    RedisClient wrong(io.get_executor(), settings);
    Subscriber denied(wrong);
    EXPECT_EQ(co_await failure_of(denied.subscribe("news", use_awaitable)), errc::auth_failed);
    co_await limited.disconnect(use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(Subscribers, KeyspaceNotifications) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server_->settings(), 0);
    co_await client.connect(use_awaitable);
    co_await enable_keyspace_events(client, "KEA", use_awaitable);
    Subscriber sub(client);
    const std::string pattern = keyspace_pattern(0, "ks:*");
    co_await sub.psubscribe(pattern, use_awaitable);
    co_await client.set("ks:a", "1", use_awaitable);
    co_await client.expire("ks:a", 100s, use_awaitable);
    co_await client.del("ks:a", use_awaitable);
    co_await client.set("other", "1", use_awaitable);  // outside the pattern
    std::vector<KeyspaceEvent> events;
    for (int i = 0; i < 3; ++i) {
      auto m = co_await next_message(sub);
      CO_ASSERT_TRUE(m.has_value());
      auto event = keyspace_event(*m);
      CO_ASSERT_TRUE(event.has_value());
      events.push_back(*event);
    }
    EXPECT_EQ(events, set_expire_del("ks:a"));
    co_await enable_keyspace_events(client, "", use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
