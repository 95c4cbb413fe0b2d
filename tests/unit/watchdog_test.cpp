// Watchdog: what is due when, for a connection's one timer.
#include "net/watchdog.hpp"

#include <gtest/gtest.h>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis::detail {
namespace {

using namespace std::chrono_literals;

Request get() {
  Request r;
  encode_command(r.payload, "GET", "k");
  return r;
}

ReplyHandler ignore() {
  return [](std::exception_ptr, Reply&&) {};
}

const auto t0 = Clock::now();

TEST(Watchdog, WakesForTheEarliestRequestDeadline) {
  Watchdog watchdog(0ms, 3s);
  RequestQueue queue;
  EXPECT_FALSE(watchdog.next(queue)) << "nothing to wait for";
  queue.push(get(), ignore(), t0, 500ms);
  queue.push(get(), ignore(), t0, 200ms);
  EXPECT_EQ(watchdog.next(queue), t0 + 200ms);
  EXPECT_FALSE(watchdog.wake(t0 + 199ms, queue, 0, false).expire);
  EXPECT_TRUE(watchdog.wake(t0 + 200ms, queue, 0, false).expire);
}

TEST(Watchdog, ChecksASilentConnectionOnceAnInterval) {
  Watchdog watchdog(1s, 3s);
  RequestQueue queue;
  watchdog.connected(t0, 5);
  EXPECT_EQ(watchdog.next(queue), t0 + 1s);
  EXPECT_FALSE(watchdog.wake(t0 + 999ms, queue, 5, false).ping);
  EXPECT_TRUE(watchdog.wake(t0 + 1s, queue, 5, false).ping) << "nothing read for a second";
  EXPECT_EQ(watchdog.next(queue), t0 + 2s);
  EXPECT_FALSE(watchdog.wake(t0 + 2s, queue, 9, false).ping) << "replies came: healthy";
  EXPECT_FALSE(watchdog.wake(t0 + 3s, queue, 9, true).ping) << "a lease running BLPOP";
  watchdog.disconnected();
  EXPECT_FALSE(watchdog.wake(t0 + 10s, queue, 9, false).ping);
  EXPECT_FALSE(watchdog.next(queue));
}

TEST(Watchdog, ReplacesAConnectionWhoseOwedReplyIsTooLate) {
  Watchdog watchdog(0ms, 3s);
  RequestQueue queue;
  watchdog.connected(t0, 0);
  queue.push(get(), ignore(), t0, 100ms);
  std::string out;
  queue.take_batch(out);
  std::vector<Completion> done;
  queue.expire(t0 + 100ms, std::make_exception_ptr(Error(errc::timeout, "t")), done);
  ASSERT_TRUE(queue.owes());
  EXPECT_EQ(watchdog.next(queue), t0 + 100ms + 3s);
  EXPECT_FALSE(watchdog.wake(t0 + 3s, queue, 0, false).owed_too_long);
  EXPECT_TRUE(watchdog.wake(t0 + 3100ms, queue, 0, false).owed_too_long);
}

TEST(Watchdog, EndsAGracefulStopOnTime) {
  Watchdog watchdog(0ms, 3s);
  RequestQueue queue;
  queue.push(get(), ignore(), t0, 30s);
  watchdog.draining_until(t0 + 5s);
  EXPECT_EQ(watchdog.next(queue), t0 + 5s);
  EXPECT_FALSE(watchdog.wake(t0 + 4s, queue, 0, false).stop);
  EXPECT_TRUE(watchdog.wake(t0 + 5s, queue, 0, false).stop);
  watchdog.stopped();
  EXPECT_EQ(watchdog.next(queue), t0 + 30s);
}

}  // namespace
}  // namespace asyncredis::detail
