// Pump, the write/read stage of a connection, fed bytes as a socket would.
#include "net/pump.hpp"

#include <gtest/gtest.h>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis::detail {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int calls = 0;
  std::exception_ptr error;
  Reply reply;
};

ReplyHandler recorder(Outcome& outcome) {
  return [&outcome](std::exception_ptr error, Reply&& reply) {
    ++outcome.calls;
    outcome.error = error;
    outcome.reply = std::move(reply);
  };
}

Request command(std::string_view name, std::string_view arg) {
  Request r;
  encode_command(r.payload, name, arg);
  return r;
}

void run(std::vector<Completion>& done) {
  for (Completion& c : done) std::move(c.handler)(c.error, std::move(c.reply));
  done.clear();
}

Pump make(ConnectionMode mode) {
  return Pump(QueueLimits{}, ReaderLimits{}, mode);
}

Pump::ReadResult feed(Pump& pump, std::string_view bytes, std::vector<Completion>& done,
                      std::vector<Reply>& pushes) {
  return pump.on_bytes(
      bytes.data(), bytes.size(),
      [&](Completion&& c) {
        done.push_back(std::move(c));
        return true;
      },
      pushes);
}

TEST(Pump, WritesWhatWaitsAndCompletesItsReplies) {
  Pump pump = make(ConnectionMode::requests);
  Outcome a, b;
  pump.queue().push(command("GET", "a"), recorder(a), Clock::now(), 1s);
  pump.queue().push(command("GET", "b"), recorder(b), Clock::now(), 1s);
  std::string out;
  ASSERT_TRUE(pump.take_batch(out));
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  EXPECT_FALSE(pump.take_batch(out)) << "nothing waits";
  std::vector<Completion> done;
  std::vector<Reply> pushes;
  // Split anywhere, answered in order.
  EXPECT_EQ(feed(pump, "$1\r\nA\r\n$1", done, pushes), Pump::ReadResult::ok);
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(feed(pump, "\r\nB\r\n", done, pushes), Pump::ReadResult::ok);
  run(done);
  EXPECT_EQ(a.reply, Reply::bulk_string("A"));
  EXPECT_EQ(b.reply, Reply::bulk_string("B"));
  EXPECT_TRUE(pushes.empty());
}

TEST(Pump, NothingIsWrittenBehindAnOwedReply) {
  Pump pump = make(ConnectionMode::requests);
  Outcome blpop, next;
  const auto now = Clock::now();
  pump.queue().push(command("BLPOP", "q"), recorder(blpop), now, 100ms);
  std::string out;
  ASSERT_TRUE(pump.take_batch(out));
  std::vector<Completion> done;
  pump.queue().expire(now + 100ms, std::make_exception_ptr(Error(errc::timeout, "t")), done);
  run(done);
  pump.queue().push(command("GET", "n"), recorder(next), now, 1s);
  EXPECT_FALSE(pump.take_batch(out)) << "GET would wait behind the BLPOP";
  std::vector<Reply> pushes;
  EXPECT_EQ(feed(pump, "*-1\r\n", done, pushes), Pump::ReadResult::ok);  // the late reply
  EXPECT_TRUE(done.empty());
  EXPECT_TRUE(pump.take_batch(out));
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\nn\r\n");
}

TEST(Pump, ARequestConnectionTakesAPushedMessageForAReplyNobodyAskedFor) {
  Pump pump = make(ConnectionMode::requests);
  std::vector<Completion> done;
  std::vector<Reply> pushes;
  EXPECT_EQ(feed(pump, "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nx\r\n", done, pushes),
            Pump::ReadResult::unexpected_reply);
  EXPECT_TRUE(pushes.empty());
  EXPECT_NE(pump.why().find("no request asked for"), std::string::npos);
}

TEST(Pump, ASubscriberConnectionTellsPushesFromReplies) {
  Pump pump = make(ConnectionMode::subscriber);
  Outcome subscribe, ping;
  Request sub = command("SUBSCRIBE", "ch");
  pump.queue().push(std::move(sub), recorder(subscribe), Clock::now(), 1s);
  pump.queue().push(command("PING", ""), recorder(ping), Clock::now(), 1s);
  std::string out;
  pump.take_batch(out);
  std::vector<Completion> done;
  std::vector<Reply> pushes;
  const std::string bytes =
      "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"                 // the confirmation
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"          // a message
      "*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nch\r\n$1\r\np\r\n"  // a pattern's
      "*2\r\n$4\r\npong\r\n$0\r\n\r\n";                             // PING's reply
  EXPECT_EQ(feed(pump, bytes, done, pushes), Pump::ReadResult::ok);
  run(done);
  ASSERT_EQ(pushes.size(), 2u);
  EXPECT_EQ(pushes[0].elements().at(2), Reply::bulk_string("hello"));
  EXPECT_EQ(pushes[1].elements().at(0), Reply::bulk_string("pmessage"));
  EXPECT_EQ(subscribe.reply.elements().at(0), Reply::bulk_string("subscribe"));
  EXPECT_EQ(ping.reply.elements().at(0), Reply::bulk_string("pong"));
  // A message with nothing outstanding is no protocol error on a subscriber's connection.
  EXPECT_EQ(feed(pump, "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nz\r\n", done, pushes),
            Pump::ReadResult::ok);
  EXPECT_EQ(pushes.size(), 3u);
}

TEST(Pump, AnUnaskedShardUnsubscribeIsAPushNotAReply) {
  // A cluster node unsubscribes a shard channel by itself when its slot leaves the node, in
  // the middle of whatever the subscriber asked: it must not be taken for that reply.
  Pump pump = make(ConnectionMode::subscriber);
  Outcome subscribe;
  pump.queue().push(command("SUBSCRIBE", "ch"), recorder(subscribe), Clock::now(), 1s);
  std::string out;
  pump.take_batch(out);
  std::vector<Completion> done;
  std::vector<Reply> pushes;
  const std::string bytes =
      "*3\r\n$12\r\nsunsubscribe\r\n$6\r\norders\r\n:0\r\n"  // unasked
      "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n";         // the confirmation
  EXPECT_EQ(feed(pump, bytes, done, pushes), Pump::ReadResult::ok);
  run(done);
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].elements().at(1), Reply::bulk_string("orders"));
  EXPECT_EQ(subscribe.reply.elements().at(0), Reply::bulk_string("subscribe"));
  // On a connection of requests it is a reply like any other.
  Pump requests = make(ConnectionMode::requests);
  Outcome asked;
  requests.queue().push(command("SUNSUBSCRIBE", "orders"), recorder(asked), Clock::now(), 1s);
  requests.take_batch(out);
  EXPECT_EQ(feed(requests, "*3\r\n$12\r\nsunsubscribe\r\n$6\r\norders\r\n:0\r\n", done, pushes),
            Pump::ReadResult::ok);
  run(done);
  EXPECT_EQ(pushes.size(), 1u);
  EXPECT_EQ(asked.reply.elements().at(0), Reply::bulk_string("sunsubscribe"));
}

TEST(Pump, ABrokenReplyIsReportedAfterTheGoodOnes) {
  Pump pump = make(ConnectionMode::requests);
  Outcome first, second;
  pump.queue().push(command("GET", "a"), recorder(first), Clock::now(), 1s);
  pump.queue().push(command("GET", "b"), recorder(second), Clock::now(), 1s);
  std::string out;
  pump.take_batch(out);
  std::vector<Completion> done;
  std::vector<Reply> pushes;
  EXPECT_EQ(feed(pump, "+OK\r\n?garbage\r\n", done, pushes), Pump::ReadResult::broken_reply);
  EXPECT_EQ(done.size(), 1u) << "the first reply was good";
  EXPECT_NE(pump.why().find("0x3f"), std::string::npos) << pump.why();
  Completion broken;
  EXPECT_TRUE(pump.queue().fail_oldest_written(
      std::make_exception_ptr(Error(errc::protocol_error, pump.why())), broken));
  run(done);
  std::move(broken.handler)(broken.error, Reply());
  EXPECT_EQ(first.reply, Reply::simple_string("OK"));
  EXPECT_EQ(error_code_of(second.error), make_error_code(errc::protocol_error));
}

TEST(Pump, StopsWhenACompletionSaysSo) {
  Pump pump = make(ConnectionMode::requests);
  Outcome a, b;
  pump.queue().push(command("GET", "a"), recorder(a), Clock::now(), 1s);
  pump.queue().push(command("GET", "b"), recorder(b), Clock::now(), 1s);
  std::string out;
  pump.take_batch(out);
  std::vector<Reply> pushes;
  int calls = 0;
  const std::string bytes = "+A\r\n+B\r\n";
  EXPECT_EQ(pump.on_bytes(
                bytes.data(), bytes.size(),
                [&](Completion&&) {
                  ++calls;
                  return false;
                },
                pushes),
            Pump::ReadResult::stopped);
  EXPECT_EQ(calls, 1);
}

TEST(PushedMessages, OnlyMessageArraysArePushes) {
  EXPECT_TRUE(is_pushed_message(Reply::array(
      {Reply::bulk_string("message"), Reply::bulk_string("c"), Reply::bulk_string("p")})));
  EXPECT_FALSE(is_pushed_message(
      Reply::array({Reply::bulk_string("subscribe"), Reply::bulk_string("c"), Reply::integer(1)})));
  EXPECT_TRUE(is_pushed_message(Reply::array(
      {Reply::bulk_string("sunsubscribe"), Reply::bulk_string("c"), Reply::integer(0)})));
  EXPECT_FALSE(is_pushed_message(Reply::array(
      {Reply::bulk_string("unsubscribe"), Reply::bulk_string("c"), Reply::integer(0)})));
  EXPECT_FALSE(is_pushed_message(Reply::array({})));
  EXPECT_FALSE(is_pushed_message(Reply::array({Reply::integer(1)})));
  EXPECT_FALSE(is_pushed_message(Reply::bulk_string("message")));
}

}  // namespace
}  // namespace asyncredis::detail
