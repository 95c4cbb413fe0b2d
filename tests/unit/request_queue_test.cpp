// RequestQueue: the life of requests on one connection, without sockets.
#include "net/request_queue.hpp"

#include <gtest/gtest.h>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis::detail {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  bool called = false;
  std::exception_ptr error;
  Reply reply;
};

Request command(std::string_view name, std::string_view arg, std::uint32_t replies = 1,
                Deliver deliver = Deliver::single, bool retry = false) {
  Request r;
  for (std::uint32_t i = 0; i < replies; ++i) encode_command(r.payload, name, arg);
  r.reply_count = replies;
  r.deliver = deliver;
  r.retry_on_reconnect = retry;
  return r;
}

ReplyHandler recorder(Outcome& outcome) {
  return [&outcome](std::exception_ptr error, Reply&& reply) {
    EXPECT_FALSE(outcome.called) << "handler called twice";
    outcome.called = true;
    outcome.error = error;
    outcome.reply = std::move(reply);
  };
}

void run(Completion& done) {
  std::move(done.handler)(done.error, std::move(done.reply));
}
void run(std::vector<Completion>& done) {
  for (auto& c : done) run(c);
  done.clear();
}

std::exception_ptr lost() {
  return std::make_exception_ptr(Error(errc::connection_lost, "lost"));
}

const auto later = Clock::now() + 1h;

TEST(RequestQueue, BatchesEveryWaitingRequestIntoOneWrite) {
  RequestQueue q;
  Outcome a, b;
  q.push(command("GET", "a"), recorder(a), later);
  q.push(command("GET", "b"), recorder(b), later);
  EXPECT_EQ(q.waiting_count(), 2u);
  std::string out = "stale";
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  EXPECT_EQ(q.waiting_count(), 0u);
  EXPECT_EQ(q.written_count(), 2u);
}

// A request may send bytes its handler owns (a cached() hit's encoded GET) instead of its
// own payload; a retryable one keeps a copy, since the resend outlives nothing it was given.
TEST(RequestQueue, BorrowedPayloadIsSentAndCopiedForARetry) {
  RequestQueue q;
  Outcome a, b;
  std::string bytes = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
  Request borrowed;
  borrowed.borrowed_payload = bytes;
  borrowed.retry_on_reconnect = true;
  q.push(std::move(borrowed), recorder(a), later);
  q.push(command("GET", "b"), recorder(b), later);
  std::string out;
  q.take_batch(out);
  EXPECT_EQ(out, bytes + "*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  run(done);
  bytes.assign(bytes.size(), '#');  // what the handler owned is gone by the resend
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_FALSE(a.called);
  EXPECT_TRUE(b.called) << "not retryable: failed with the connection";
}

TEST(RequestQueue, RepliesCompleteRequestsInOrder) {
  RequestQueue q;
  Outcome a, b;
  q.push(command("GET", "a"), recorder(a), later);
  q.push(command("GET", "b"), recorder(b), later);
  std::string out;
  q.take_batch(out);
  Completion done;
  ASSERT_EQ(q.on_reply(Reply::bulk_string("1"), done), RequestQueue::ReplyResult::completed);
  run(done);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("2"), done), RequestQueue::ReplyResult::completed);
  run(done);
  EXPECT_EQ(a.reply, Reply::bulk_string("1"));
  EXPECT_EQ(b.reply, Reply::bulk_string("2"));
  EXPECT_TRUE(q.empty());
}

TEST(RequestQueue, ReplyWithoutRequestIsUnexpected) {
  RequestQueue q;
  Completion done;
  EXPECT_EQ(q.on_reply(Reply::simple_string("OK"), done), RequestQueue::ReplyResult::unexpected);
  Outcome a;
  q.push(command("GET", "a"), recorder(a), later);  // waiting, not written
  EXPECT_EQ(q.on_reply(Reply::simple_string("OK"), done), RequestQueue::ReplyResult::unexpected);
}

TEST(RequestQueue, PipelineCollectsAllRepliesAsArray) {
  RequestQueue q;
  Outcome p;
  q.push(command("INCR", "x", 3, Deliver::array), recorder(p), later);
  std::string out;
  q.take_batch(out);
  Completion done;
  EXPECT_EQ(q.on_reply(Reply::integer(1), done), RequestQueue::ReplyResult::pending);
  EXPECT_EQ(q.on_reply(Reply::error("ERR x"), done), RequestQueue::ReplyResult::pending);
  ASSERT_EQ(q.on_reply(Reply::integer(3), done), RequestQueue::ReplyResult::completed);
  run(done);
  EXPECT_EQ(p.reply, Reply::array({Reply::integer(1), Reply::error("ERR x"), Reply::integer(3)}));
}

TEST(RequestQueue, DeliverLastKeepsOnlyTheFinalReply) {
  RequestQueue q;
  Outcome t;
  q.push(command("X", "y", 3, Deliver::last), recorder(t), later);
  std::string out;
  q.take_batch(out);
  Completion done;
  q.on_reply(Reply::simple_string("OK"), done);
  q.on_reply(Reply::simple_string("QUEUED"), done);
  ASSERT_EQ(q.on_reply(Reply::array({Reply::integer(7)}), done),
            RequestQueue::ReplyResult::completed);
  run(done);
  EXPECT_EQ(t.reply, Reply::array({Reply::integer(7)}));
}

TEST(RequestQueue, ConnectionLossFailsWrittenAndKeepsWaiting) {
  RequestQueue q;
  Outcome written, waiting;
  q.push(command("INCR", "a"), recorder(written), later);
  std::string out;
  q.take_batch(out);
  q.push(command("INCR", "b"), recorder(waiting), later);
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  run(done);
  ASSERT_TRUE(written.called);
  EXPECT_EQ(error_code_of(written.error), make_error_code(errc::connection_lost));
  EXPECT_FALSE(waiting.called);
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n");
}

TEST(RequestQueue, RetryableWrittenRequestsAreResentFirst) {
  RequestQueue q;
  Outcome retry, plain, waiting;
  q.push(command("GET", "r", 1, Deliver::single, true), recorder(retry), later);
  q.push(command("INCR", "p"), recorder(plain), later);
  std::string out;
  q.take_batch(out);
  q.push(command("GET", "w"), recorder(waiting), later);
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  run(done);
  EXPECT_FALSE(retry.called);
  EXPECT_TRUE(plain.called);
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\nr\r\n*2\r\n$3\r\nGET\r\n$1\r\nw\r\n");
  Completion c;
  ASSERT_EQ(q.on_reply(Reply::bulk_string("R"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(retry.reply, Reply::bulk_string("R"));
}

TEST(RequestQueue, RetriedPipelineStartsItsRepliesAfresh) {
  RequestQueue q;
  Outcome p;
  q.push(command("GET", "k", 2, Deliver::array, true), recorder(p), later);
  std::string out;
  q.take_batch(out);
  Completion c;
  q.on_reply(Reply::bulk_string("first-try"), c);  // half of the replies, then the loss
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  EXPECT_TRUE(done.empty());
  q.take_batch(out);
  EXPECT_EQ(q.on_reply(Reply::bulk_string("a"), c), RequestQueue::ReplyResult::pending);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("b"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(p.reply, Reply::array({Reply::bulk_string("a"), Reply::bulk_string("b")}));
}

TEST(RequestQueue, ExpiredWaitingRequestIsNeverSent) {
  RequestQueue q;
  Outcome a, b, c;
  const auto now = Clock::now();
  q.push(command("GET", "a"), recorder(a), now + 1h);
  q.push(command("GET", "b"), recorder(b), now - 1ms);
  q.push(command("GET", "c"), recorder(c), now + 1h);
  std::vector<Completion> done;
  q.expire(now, std::make_exception_ptr(Error(errc::timeout, "t")), done);
  run(done);
  EXPECT_EQ(error_code_of(b.error), make_error_code(errc::timeout));
  EXPECT_FALSE(a.called);
  std::string out;
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nc\r\n");
}

TEST(RequestQueue, ExpiredWrittenRequestDropsItsLateReply) {
  RequestQueue q;
  Outcome slow, next;
  const auto now = Clock::now();
  q.push(command("GET", "slow"), recorder(slow), now - 1ms);
  q.push(command("GET", "next"), recorder(next), now + 1h);
  std::string out;
  q.take_batch(out);
  std::vector<Completion> done;
  q.expire(now, std::make_exception_ptr(Error(errc::timeout, "t")), done);
  run(done);
  EXPECT_TRUE(slow.called);
  EXPECT_EQ(q.written_count(), 2u);  // the late reply must still be read
  Completion c;
  EXPECT_EQ(q.on_reply(Reply::bulk_string("late"), c), RequestQueue::ReplyResult::pending);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("N"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(next.reply, Reply::bulk_string("N"));
  EXPECT_EQ(slow.reply, Reply());  // never given the late reply
}

TEST(RequestQueue, CancelRemovesWaitingAndAbandonsWritten) {
  RequestQueue q;
  Outcome w, x;
  const auto id_w = q.push(command("GET", "w"), recorder(w), later);
  std::string out;
  q.take_batch(out);
  const auto id_x = q.push(command("GET", "x"), recorder(x), later);
  auto cancelled = std::make_exception_ptr(Error(errc::cancelled, "c"));
  Completion c;
  ASSERT_TRUE(q.cancel(id_x, cancelled, c));
  run(c);
  ASSERT_TRUE(q.cancel(id_w, cancelled, c));
  run(c);
  EXPECT_FALSE(q.cancel(id_w, cancelled, c)) << "already done";
  EXPECT_FALSE(q.has_waiting());
  EXPECT_EQ(error_code_of(x.error), make_error_code(errc::cancelled));
  EXPECT_EQ(q.on_reply(Reply::bulk_string("late"), c), RequestQueue::ReplyResult::pending);
  EXPECT_TRUE(q.empty());
}

TEST(RequestQueue, EarliestDeadlineIgnoresAbandoned) {
  RequestQueue q;
  Outcome a, b;
  const auto now = Clock::now();
  EXPECT_FALSE(q.earliest_deadline());
  q.push(command("GET", "a"), recorder(a), now + 1s);
  q.push(command("GET", "b"), recorder(b), now + 2s);
  std::string out;
  q.take_batch(out);
  EXPECT_EQ(q.earliest_deadline(), now + 1s);
  std::vector<Completion> done;
  q.expire(now + 1s, std::make_exception_ptr(Error(errc::timeout, "t")), done);
  run(done);
  EXPECT_EQ(q.earliest_deadline(), now + 2s);
}

TEST(RequestQueue, FailAllCompletesEveryoneOnce) {
  RequestQueue q;
  Outcome a, b, c;
  q.push(command("GET", "a"), recorder(a), later);
  std::string out;
  q.take_batch(out);
  q.push(command("GET", "b"), recorder(b), later);
  q.push(command("GET", "c"), recorder(c), later);
  std::vector<Completion> done;
  q.fail_all(std::make_exception_ptr(Error(errc::shutting_down, "bye")), done);
  EXPECT_EQ(done.size(), 3u);
  run(done);
  for (auto* o : {&a, &b, &c}) {
    EXPECT_EQ(error_code_of(o->error), make_error_code(errc::shutting_down));
  }
  EXPECT_TRUE(q.empty());
  q.take_batch(out);
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace asyncredis::detail
