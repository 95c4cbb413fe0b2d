// The pieces of a Subscriber that need no server: reading pushed messages and confirmations,
// the bounded buffer, keyspace events.
#include <gtest/gtest.h>

#include "asyncredis/keyspace.hpp"
#include "pubsub/message_buffer.hpp"
#include "pubsub/pushed_message.hpp"

namespace asyncredis::detail {
namespace {

using Kind = Message::Kind;

Reply strings(std::initializer_list<const char*> items) {
  std::vector<Reply> elements;
  for (const char* item : items) elements.push_back(Reply::bulk_string(item));
  return Reply::array(std::move(elements));
}

Message message(std::string payload) {
  return Message{Kind::message, "", "ch", std::move(payload), 0};
}

TEST(PushedMessage, ReadsEveryKind) {
  EXPECT_EQ(message_of(strings({"message", "ch", "hi"})),
            (Message{Kind::message, "", "ch", "hi", 0}));
  EXPECT_EQ(message_of(strings({"pmessage", "c*", "ch", "hi"})),
            (Message{Kind::pmessage, "c*", "ch", "hi", 0}));
  EXPECT_EQ(message_of(strings({"smessage", "s", "hi"})),
            (Message{Kind::smessage, "", "s", "hi", 0}));
}

TEST(PushedMessage, NamesTheShardChannelANodeUnsubscribed) {
  EXPECT_EQ(unsubscribed_shard_channel(Reply::array(
                {Reply::bulk_string("sunsubscribe"), Reply::bulk_string("s"), Reply::integer(0)})),
            "s");
  EXPECT_FALSE(unsubscribed_shard_channel(Reply::array(
      {Reply::bulk_string("unsubscribe"), Reply::bulk_string("s"), Reply::integer(0)})));
  EXPECT_FALSE(unsubscribed_shard_channel(strings({"sunsubscribe", "s", "0"})));
  EXPECT_FALSE(unsubscribed_shard_channel(strings({"sunsubscribe", "s"})));
  EXPECT_FALSE(unsubscribed_shard_channel(Reply::bulk_string("sunsubscribe")));
}

TEST(PushedMessage, RefusesWrongShapes) {
  EXPECT_FALSE(message_of(strings({"message", "ch"})));
  EXPECT_FALSE(message_of(strings({"pmessage", "ch", "hi"})));
  EXPECT_FALSE(message_of(strings({"subscribe", "ch", "1"})));
  EXPECT_FALSE(message_of(
      Reply::array({Reply::bulk_string("message"), Reply::integer(1), Reply::bulk_string("x")})));
  EXPECT_FALSE(message_of(Reply::bulk_string("message")));
}

// CLIENT TRACKING's RESP2 redirection: the payload is an array of keys, or null for all.
TEST(PushedMessage, ReadsInvalidations) {
  const auto invalidation = [](Reply payload) {
    std::vector<Reply> e;
    e.push_back(Reply::bulk_string("message"));
    e.push_back(Reply::bulk_string("__redis__:invalidate"));
    e.push_back(std::move(payload));
    return message_of(Reply::array(std::move(e)));
  };
  const auto keys = invalidation(Reply::array({Reply::bulk_string("a"), Reply::bulk_string("b")}));
  ASSERT_TRUE(keys);
  EXPECT_EQ(keys->kind, Kind::invalidated);
  EXPECT_EQ(keys->channel, "__redis__:invalidate");
  EXPECT_EQ(keys->keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(keys->payload.empty());

  const auto all = invalidation(Reply::nil());
  ASSERT_TRUE(all);
  EXPECT_EQ(all->kind, Kind::invalidated_all);
  EXPECT_TRUE(all->keys.empty());

  // Not an array of strings: refused, not half read.
  EXPECT_FALSE(invalidation(Reply::array({Reply::bulk_string("a"), Reply::integer(1)})));
  EXPECT_FALSE(invalidation(Reply::integer(3)));
  // A string published to the channel by someone is an ordinary message.
  const auto published = invalidation(Reply::bulk_string("hi"));
  ASSERT_TRUE(published);
  EXPECT_EQ(published->kind, Kind::message);
  EXPECT_EQ(published->payload, "hi");
  // An array payload on another channel is no message at all.
  EXPECT_FALSE(message_of(
      Reply::array({Reply::bulk_string("message"), Reply::bulk_string("ch"), Reply::array({})})));
}

TEST(PushedMessage, Confirmations) {
  const Reply confirmation =
      Reply::array({Reply::bulk_string("subscribe"), Reply::bulk_string("ch"), Reply::integer(1)});
  EXPECT_TRUE(confirms(confirmation, "subscribe", "ch"));
  EXPECT_FALSE(confirms(confirmation, "psubscribe", "ch"));
  EXPECT_FALSE(confirms(confirmation, "subscribe", "other"));
  EXPECT_FALSE(confirms(Reply::error("NOPERM"), "subscribe", "ch"));
}

TEST(MessageBuffer, DropsTheOldestAndSaysHowMany) {
  MessageBuffer buffer(SubscriberOptions{.max_messages = 3});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(buffer.push(message(std::to_string(i))));
  EXPECT_EQ(buffer.size(), 3u);
  EXPECT_EQ(buffer.dropped_total(), 7u);
  auto first = buffer.pop();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->payload, "7");
  EXPECT_EQ(first->dropped, 7u);
  auto second = buffer.pop();
  EXPECT_EQ(second->dropped, 0u) << "said once";
}

TEST(MessageBuffer, BoundsBytesToo) {
  MessageBuffer buffer(SubscriberOptions{.max_messages = 100, .max_bytes = 30});
  buffer.push(message(std::string(10, 'a')));  // 12 bytes with the channel
  buffer.push(message(std::string(10, 'b')));
  buffer.push(message(std::string(10, 'c')));  // 36 > 30: 'a' goes
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_LE(buffer.bytes(), 30u);
  // One message bigger than the bound is kept alone rather than lost without a trace.
  buffer.push(message(std::string(100, 'd')));
  EXPECT_EQ(buffer.size(), 1u);
  EXPECT_EQ(buffer.pop()->dropped, 3u);
}

TEST(MessageBuffer, RefusesWhenToldToDisconnect) {
  MessageBuffer buffer(
      SubscriberOptions{.max_messages = 2, .when_full = SubscriberOptions::WhenFull::disconnect});
  EXPECT_TRUE(buffer.push(message("1")));
  EXPECT_TRUE(buffer.push(message("2")));
  EXPECT_FALSE(buffer.push(message("3")));
  EXPECT_EQ(buffer.size(), 2u);
  EXPECT_EQ(buffer.pop()->payload, "1");
}

TEST(Keyspace, EventsFromBothKindsOfChannel) {
  EXPECT_EQ(keyspace_event(
                Message{Kind::pmessage, "__keyspace@0__:*", "__keyspace@0__:user:1", "set", 0}),
            (KeyspaceEvent{"set", "user:1", 0}));
  EXPECT_EQ(keyspace_event(message("x")), std::nullopt);
  EXPECT_EQ(keyspace_event(Message{Kind::message, "", "__keyevent@12__:expired", "k:a:b", 0}),
            (KeyspaceEvent{"expired", "k:a:b", 12}));
  EXPECT_EQ(keyspace_event(Message{Kind::message, "", "__keyspace@x__:k", "set", 0}), std::nullopt);
  EXPECT_EQ(keyspace_event(Message{Kind::message, "", "__keyspace@__:k", "set", 0}), std::nullopt);
  EXPECT_EQ(keyspace_event(Message{Kind::resubscribed, "", "", "", 0}), std::nullopt);
  EXPECT_EQ(keyspace_pattern(3, "user:*"), "__keyspace@3__:user:*");
  EXPECT_EQ(keyevent_pattern(0), "__keyevent@0__:*");
}

}  // namespace
}  // namespace asyncredis::detail
