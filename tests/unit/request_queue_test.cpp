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

// Pushes with `timeout` from `now` (defaults: now, an hour).
std::uint64_t push(RequestQueue& q, Request&& request, ReplyHandler&& handler,
                   std::chrono::milliseconds timeout = 1h, Clock::time_point now = Clock::now()) {
  return q.push(std::move(request), std::move(handler), now, timeout);
}

std::exception_ptr timed_out() {
  return std::make_exception_ptr(Error(errc::timeout, "t"));
}

TEST(RequestQueue, BatchesEveryWaitingRequestIntoOneWrite) {
  RequestQueue q;
  Outcome a, b;
  push(q, command("GET", "a"), recorder(a));
  push(q, command("GET", "b"), recorder(b));
  EXPECT_EQ(q.waiting_count(), 2u);
  std::string out = "stale";
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n");
  EXPECT_EQ(q.waiting_count(), 0u);
  EXPECT_EQ(q.written_count(), 2u);
}

TEST(RequestQueue, RepliesCompleteRequestsInOrder) {
  RequestQueue q;
  Outcome a, b;
  push(q, command("GET", "a"), recorder(a));
  push(q, command("GET", "b"), recorder(b));
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
  push(q, command("GET", "a"), recorder(a));  // waiting, not written
  EXPECT_EQ(q.on_reply(Reply::simple_string("OK"), done), RequestQueue::ReplyResult::unexpected);
}

TEST(RequestQueue, PipelineCollectsAllRepliesAsArray) {
  RequestQueue q;
  Outcome p;
  push(q, command("INCR", "x", 3, Deliver::array), recorder(p));
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
  push(q, command("X", "y", 3, Deliver::last), recorder(t));
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
  push(q, command("INCR", "a"), recorder(written));
  std::string out;
  q.take_batch(out);
  push(q, command("INCR", "b"), recorder(waiting));
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
  push(q, command("GET", "r", 1, Deliver::single, true), recorder(retry));
  push(q, command("INCR", "p"), recorder(plain));
  std::string out;
  q.take_batch(out);
  push(q, command("GET", "w"), recorder(waiting));
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
  push(q, command("GET", "k", 2, Deliver::array, true), recorder(p));
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
  push(q, command("GET", "a"), recorder(a), 1h, now);
  push(q, command("GET", "b"), recorder(b), 1ms, now);
  push(q, command("GET", "c"), recorder(c), 1h, now);
  std::vector<Completion> done;
  q.expire(now + 1ms, timed_out(), done);
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
  push(q, command("GET", "slow"), recorder(slow), 1ms, now);
  push(q, command("GET", "next"), recorder(next), 1h, now);
  std::string out;
  q.take_batch(out);
  std::vector<Completion> done;
  q.expire(now + 1ms, timed_out(), done);
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
  const auto id_w = push(q, command("GET", "w"), recorder(w));
  std::string out;
  q.take_batch(out);
  const auto id_x = push(q, command("GET", "x"), recorder(x));
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
  push(q, command("GET", "a"), recorder(a), 1s, now);
  push(q, command("GET", "b"), recorder(b), 2s, now);
  std::string out;
  q.take_batch(out);
  EXPECT_EQ(q.earliest_deadline(), now + 1s);
  std::vector<Completion> done;
  q.expire(now + 1s, timed_out(), done);
  run(done);
  EXPECT_EQ(q.earliest_deadline(), now + 2s);
}

TEST(RequestQueue, FailAllCompletesEveryoneOnce) {
  RequestQueue q;
  Outcome a, b, c;
  push(q, command("GET", "a"), recorder(a));
  std::string out;
  q.take_batch(out);
  push(q, command("GET", "b"), recorder(b));
  push(q, command("GET", "c"), recorder(c));
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

// ---- bounds ------------------------------------------------------------------------------

TEST(RequestQueue, LimitsBoundWhatMayWait) {
  RequestQueue q(QueueLimits{2, 1000, 1 << 20});
  Outcome a, b, c;
  EXPECT_NE(push(q, command("GET", "a"), recorder(a)), 0u);
  EXPECT_NE(push(q, command("GET", "b"), recorder(b)), 0u);
  ReplyHandler refused = recorder(c);
  EXPECT_EQ(q.push(command("GET", "c"), std::move(refused), Clock::now(), 1h), 0u);
  EXPECT_TRUE(refused) << "a refused request keeps its handler";
  std::string out;
  q.take_batch(out);  // written requests no longer count
  EXPECT_NE(push(q, command("GET", "c"), recorder(c)), 0u);
}

TEST(RequestQueue, ByteLimitTakesOneOversizedRequestWhenNothingWaits) {
  RequestQueue q(QueueLimits{100, 64, 1 << 20});
  Outcome big, small, more;
  const std::string value(100, 'v');
  EXPECT_NE(push(q, command("SET", value), recorder(big)), 0u) << "could never be sent otherwise";
  EXPECT_EQ(push(q, command("GET", "k"), recorder(small)), 0u);
  std::string out;
  q.take_batch(out);
  EXPECT_NE(push(q, command("GET", "k"), recorder(small)), 0u);
  EXPECT_NE(push(q, command("GET", "k"), recorder(more)), 0u);
}

TEST(RequestQueue, PipelineRepliesPastTheMemoryLimitFailItAndAreDropped) {
  RequestQueue q(QueueLimits{100, 1 << 20, 3 * sizeof(Reply) + 16});
  Outcome p, next;
  push(q, command("GET", "k", 4, Deliver::array), recorder(p));
  push(q, command("GET", "n"), recorder(next));
  std::string out;
  q.take_batch(out);
  Completion c;
  EXPECT_EQ(q.on_reply(Reply::bulk_string("12345678"), c), RequestQueue::ReplyResult::pending);
  EXPECT_EQ(q.on_reply(Reply::bulk_string("12345678"), c), RequestQueue::ReplyResult::pending);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("12345678"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(error_code_of(p.error), make_error_code(errc::protocol_error));
  EXPECT_NE(error_message_of(p.error).find("max_reply_size"), std::string::npos);
  EXPECT_TRUE(q.owes()) << "one reply of the pipeline is still due";
  EXPECT_EQ(q.on_reply(Reply::bulk_string("x"), c), RequestQueue::ReplyResult::pending);
  EXPECT_FALSE(q.owes());
  ASSERT_EQ(q.on_reply(Reply::bulk_string("N"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(next.reply, Reply::bulk_string("N"));
  // What the failed pipeline held was given back: a new one may collect as much again.
  Outcome again;
  push(q, command("GET", "k", 2, Deliver::array), recorder(again));
  q.take_batch(out);
  q.on_reply(Reply::bulk_string("12345678"), c);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("12345678"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_FALSE(again.error);
}

// ---- replies owed to requests given up -----------------------------------------------------

TEST(RequestQueue, AWrittenRequestGivenUpOwesItsReplyUntilItComes) {
  RequestQueue q;
  Outcome blpop;
  const auto now = Clock::now();
  push(q, command("BLPOP", "q"), recorder(blpop), 500ms, now);
  std::string out;
  q.take_batch(out);
  EXPECT_FALSE(q.owes());
  std::vector<Completion> done;
  q.expire(now + 500ms, timed_out(), done);
  run(done);
  EXPECT_TRUE(blpop.called);
  EXPECT_TRUE(q.owes());
  EXPECT_EQ(q.owed_since(), now + 500ms);
  EXPECT_EQ(q.live_count(), 0u);
  EXPECT_FALSE(q.empty());
  Completion c;
  EXPECT_EQ(q.on_reply(Reply::nil(), c), RequestQueue::ReplyResult::pending);
  EXPECT_FALSE(q.owes());
  EXPECT_TRUE(q.empty());
}

TEST(RequestQueue, ALostConnectionOwesNothing) {
  RequestQueue q;
  Outcome a;
  push(q, command("GET", "a"), recorder(a));
  std::string out;
  q.take_batch(out);
  Completion c;
  ASSERT_TRUE(q.cancel(1, std::make_exception_ptr(Error(errc::cancelled, "c")), c));
  run(c);
  EXPECT_TRUE(q.owes());
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  EXPECT_TRUE(done.empty()) << "its handler was called already";
  EXPECT_FALSE(q.owes());
}

TEST(RequestQueue, OldestWrittenFailsAloneAfterABrokenReply) {
  RequestQueue q;
  Outcome broken, other, retried;
  push(q, command("GET", "big"), recorder(broken));
  push(q, command("GET", "o"), recorder(other));
  push(q, command("GET", "r", 1, Deliver::single, true), recorder(retried));
  std::string out;
  q.take_batch(out);
  Completion c;
  ASSERT_TRUE(q.fail_oldest_written(std::make_exception_ptr(Error(errc::protocol_error, "p")), c));
  run(c);
  std::vector<Completion> done;
  q.on_connection_lost(lost(), done);
  run(done);
  EXPECT_EQ(error_code_of(broken.error), make_error_code(errc::protocol_error));
  EXPECT_EQ(error_code_of(other.error), make_error_code(errc::connection_lost));
  EXPECT_FALSE(retried.called) << "retryable: sent again";
  EXPECT_EQ(q.waiting_count(), 1u);
}

TEST(RequestQueue, FailWaitingLeavesWrittenAlone) {
  RequestQueue q;
  Outcome written, waiting;
  push(q, command("GET", "w"), recorder(written));
  std::string out;
  q.take_batch(out);
  push(q, command("GET", "x"), recorder(waiting));
  std::vector<Completion> done;
  q.fail_waiting(std::make_exception_ptr(Error(errc::not_connected, "down")), done);
  run(done);
  EXPECT_EQ(error_code_of(waiting.error), make_error_code(errc::not_connected));
  EXPECT_FALSE(written.called);
  q.take_batch(out);
  EXPECT_TRUE(out.empty());
}

// ---- expiry by timeout class ---------------------------------------------------------------

TEST(RequestQueue, ShorterTimeoutsBehindLongerOnesExpireOnTime) {
  RequestQueue q;
  Outcome long1, short1, long2, short2;
  const auto now = Clock::now();
  push(q, command("GET", "l1"), recorder(long1), 10s, now);
  push(q, command("GET", "s1"), recorder(short1), 100ms, now);
  push(q, command("GET", "l2"), recorder(long2), 10s, now + 50ms);
  push(q, command("GET", "s2"), recorder(short2), 100ms, now + 50ms);
  EXPECT_EQ(q.earliest_deadline(), now + 100ms);
  std::vector<Completion> done;
  q.expire(now + 100ms, timed_out(), done);
  run(done);
  EXPECT_TRUE(short1.called);
  EXPECT_FALSE(short2.called);
  EXPECT_EQ(q.earliest_deadline(), now + 150ms);
  q.expire(now + 150ms, timed_out(), done);
  run(done);
  EXPECT_TRUE(short2.called);
  EXPECT_FALSE(long1.called);
  EXPECT_FALSE(long2.called);
  EXPECT_EQ(q.earliest_deadline(), now + 10s);
  std::string out;
  q.take_batch(out);
  EXPECT_EQ(out, "*2\r\n$3\r\nGET\r\n$2\r\nl1\r\n*2\r\n$3\r\nGET\r\n$2\r\nl2\r\n");
}

TEST(RequestQueue, AnEarlyWakeUpFindsTheNextDeadline) {
  RequestQueue q;
  Outcome a, b;
  const auto now = Clock::now();
  push(q, command("GET", "a"), recorder(a), 1s, now);
  push(q, command("GET", "b"), recorder(b), 1s, now + 10ms);
  std::string out;
  q.take_batch(out);
  Completion c;
  ASSERT_EQ(q.on_reply(Reply::bulk_string("A"), c), RequestQueue::ReplyResult::completed);
  run(c);
  EXPECT_EQ(q.earliest_deadline(), now + 1s) << "may be early: a has ended";
  std::vector<Completion> done;
  q.expire(now + 1s, timed_out(), done);
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(q.earliest_deadline(), now + 1s + 10ms);
  ASSERT_EQ(q.on_reply(Reply::bulk_string("B"), c), RequestQueue::ReplyResult::completed);
  run(c);
  q.expire(now + 2s, timed_out(), done);
  EXPECT_FALSE(q.earliest_deadline()) << "no request left to time out";
}

// An outage: requests keep coming and keep expiring from the front. Every one that expired is
// shed, so what the queue holds stays what could still be sent, and the batch after the
// reconnect carries exactly the live ones in order.
TEST(RequestQueue, AnOutageShedsWhatExpired) {
  RequestQueue q;
  std::vector<Outcome> outcomes(10'000);
  const auto start = Clock::now();
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto now = start + std::chrono::milliseconds(i);
    push(q, command("GET", std::to_string(i)), recorder(outcomes[i]), 1s, now);
    std::vector<Completion> done;
    q.expire(now, timed_out(), done);
    run(done);
  }
  // Pushed at start + 0 .. 9999 ms with a 1 s timeout: those before start + 9000 ms expired.
  EXPECT_EQ(q.waiting_count(), 1000u);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    ASSERT_EQ(outcomes[i].called, i < 9000) << i;
  }
  std::string out;
  q.take_batch(out);
  std::string expected;
  for (std::size_t i = 9000; i < outcomes.size(); ++i) {
    encode_command(expected, "GET", std::to_string(i));
  }
  EXPECT_EQ(out, expected);
}

TEST(RequestQueue, CancelledWaitingRequestsInTheMiddleAreSkippedAndShed) {
  RequestQueue q;
  std::vector<Outcome> outcomes(200);
  std::vector<std::uint64_t> ids;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    ids.push_back(push(q, command("GET", std::to_string(i)), recorder(outcomes[i])));
  }
  auto cancelled = std::make_exception_ptr(Error(errc::cancelled, "c"));
  Completion c;
  for (std::size_t i = 1; i < outcomes.size(); i += 2) {  // every odd one: never the front
    ASSERT_TRUE(q.cancel(ids[i], cancelled, c));
    run(c);
  }
  EXPECT_FALSE(q.cancel(ids[1], cancelled, c)) << "ended already";
  EXPECT_EQ(q.waiting_count(), 100u);
  std::string out;
  q.take_batch(out);
  std::string expected;
  for (std::size_t i = 0; i < outcomes.size(); i += 2) {
    encode_command(expected, "GET", std::to_string(i));
  }
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace asyncredis::detail
