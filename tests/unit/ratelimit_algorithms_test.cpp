// The strategies' arithmetic (what LocalRateLimiter runs and the Lua scripts mirror), at chosen
// instants: counting, denial, retry_after that is exactly long enough, the window edge.
#include <gtest/gtest.h>

#include "asyncredis/error.hpp"
#include "ratelimit/algorithms.hpp"

namespace asyncredis::detail::ratelimit {
namespace {

constexpr std::int64_t ms = 1000;  // µs
constexpr std::int64_t s = 1000 * ms;
// An instant at a window boundary for every window length used here.
constexpr std::int64_t t0 = 1'700'000'000LL * s;

TEST(FixedWindow, CountsUpToTheLimitThenDeniesUntilTheWindowEnds) {
  FixedWindowState st;
  for (int i = 1; i <= 3; ++i) {
    Decision d = fixed_window(st, t0 + 100 * ms, 3, 1 * s, 1);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 3 - i);
    EXPECT_EQ(d.retry_after_us, 0);
    EXPECT_EQ(d.reset_after_us, 900 * ms);
  }
  Decision denied = fixed_window(st, t0 + 250 * ms, 3, 1 * s, 1);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.retry_after_us, 750 * ms);
  EXPECT_EQ(st.count, 4) << "a denied request is counted, as the seed's INCR does";
  EXPECT_EQ(st.index, t0 / s);
  EXPECT_EQ(expires_at_us(st, 1 * s), t0 + 1 * s);
  Decision next = fixed_window(st, t0 + 1 * s, 3, 1 * s, 1);
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.remaining, 2);
  EXPECT_EQ(st.count, 1);
}

TEST(FixedWindow, PeekCountsNothingAndAsksAboutOneUnit) {
  FixedWindowState st;
  for (int i = 0; i < 5; ++i) {
    Decision d = fixed_window(st, t0, 2, 1 * s, 0);
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, 2);
  }
  EXPECT_EQ(st.count, 0);
  fixed_window(st, t0, 2, 1 * s, 2);
  Decision full = fixed_window(st, t0 + 400 * ms, 2, 1 * s, 0);
  EXPECT_FALSE(full.allowed) << "a unit more would exceed the limit";
  EXPECT_EQ(full.retry_after_us, 600 * ms);
  EXPECT_EQ(st.count, 2);
}

TEST(FixedWindow, CostAboveOneTakesThatManyUnits) {
  FixedWindowState st;
  Decision d = fixed_window(st, t0, 10, 1 * s, 4);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 6);
  d = fixed_window(st, t0, 10, 1 * s, 6);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  d = fixed_window(st, t0, 10, 1 * s, 1);
  EXPECT_FALSE(d.allowed);
}

TEST(FixedWindow, LetsTwiceTheLimitThroughAcrossAnEdge) {
  FixedWindowState st;
  int allowed = 0;
  for (int i = 0; i < 15; ++i) allowed += fixed_window(st, t0 + 990 * ms, 10, 1 * s, 1).allowed;
  for (int i = 0; i < 15; ++i) allowed += fixed_window(st, t0 + 1010 * ms, 10, 1 * s, 1).allowed;
  EXPECT_EQ(allowed, 20) << "the weakness the sliding window and GCRA exist for";
}

TEST(SlidingWindow, DoesNotLetTheLimitThroughTwiceAcrossAnEdge) {
  SlidingWindowState st;
  int allowed = 0;
  for (int i = 0; i < 15; ++i) allowed += sliding_window(st, t0 + 990 * ms, 10, 1 * s, 1).allowed;
  EXPECT_EQ(allowed, 10);
  // 10 ms into the next window the previous one still weighs 99 %: 9.9 of 10 used.
  Decision d = sliding_window(st, t0 + 1010 * ms, 10, 1 * s, 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(st.previous, 10);
  EXPECT_EQ(st.current, 0) << "denied requests are not counted";
  // Allowed once the previous window's weight is down to 9: at 100 ms into the window.
  EXPECT_EQ(d.retry_after_us, 90 * ms);
  SlidingWindowState copy = st;
  EXPECT_FALSE(sliding_window(copy, t0 + 1010 * ms + d.retry_after_us - 1, 10, 1 * s, 1).allowed);
  Decision later = sliding_window(st, t0 + 1010 * ms + d.retry_after_us, 10, 1 * s, 1);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0);
}

TEST(SlidingWindow, RetryAfterReachesIntoTheNextWindowWhenTheCurrentOneIsFull) {
  SlidingWindowState st;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sliding_window(st, t0 + 500 * ms, 10, 1 * s, 1).allowed);
  Decision d = sliding_window(st, t0 + 600 * ms, 10, 1 * s, 1);
  ASSERT_FALSE(d.allowed);
  // The current window's 10 must weigh at most 9: 100 ms into the next window.
  EXPECT_EQ(d.retry_after_us, 500 * ms);
  EXPECT_EQ(d.reset_after_us, 1400 * ms) << "the count weighs until the end of the next window";
  EXPECT_EQ(expires_at_us(st, 1 * s), t0 + 2 * s);
  EXPECT_TRUE(sliding_window(st, t0 + 1100 * ms, 10, 1 * s, 1).allowed);
}

TEST(SlidingWindow, ForgetsWindowsOlderThanThePreviousOne) {
  SlidingWindowState st;
  for (int i = 0; i < 10; ++i) sliding_window(st, t0, 10, 1 * s, 1);
  Decision d = sliding_window(st, t0 + 2 * s, 10, 1 * s, 1);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 9);
  EXPECT_EQ(st.previous, 0);
}

TEST(SlidingWindow, PeekAndCost) {
  SlidingWindowState st;
  Decision peek = sliding_window(st, t0, 5, 1 * s, 0);
  EXPECT_TRUE(peek.allowed);
  EXPECT_EQ(peek.remaining, 5);
  EXPECT_EQ(peek.reset_after_us, 0) << "nothing counted: the whole limit is available now";
  EXPECT_EQ(st.current, 0);
  EXPECT_TRUE(sliding_window(st, t0, 5, 1 * s, 3).allowed);
  Decision d = sliding_window(st, t0, 5, 1 * s, 3);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.remaining, 2);
  EXPECT_EQ(st.current, 3);
}

TEST(Gcra, BurstThenOneUnitPerInterval) {
  GcraState st;
  for (int i = 1; i <= 10; ++i) {
    Decision d = gcra(st, t0, 10, 1 * s, 10, 1);
    ASSERT_TRUE(d.allowed) << i;
    EXPECT_EQ(d.remaining, 10 - i);
    EXPECT_EQ(d.reset_after_us, i * 100 * ms);
  }
  Decision denied = gcra(st, t0, 10, 1 * s, 10, 1);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.retry_after_us, 100 * ms);
  EXPECT_FALSE(gcra(st, t0 + 100 * ms - 1, 10, 1 * s, 10, 1).allowed);
  EXPECT_TRUE(gcra(st, t0 + 100 * ms, 10, 1 * s, 10, 1).allowed);
  EXPECT_FALSE(gcra(st, t0 + 100 * ms, 10, 1 * s, 10, 1).allowed);
  EXPECT_EQ(expires_at_us(st), t0 + 1100 * ms);
}

TEST(Gcra, SmallBurstSpreadsTheRate) {
  GcraState st;
  EXPECT_TRUE(gcra(st, t0, 10, 1 * s, 2, 1).allowed);
  EXPECT_TRUE(gcra(st, t0, 10, 1 * s, 2, 1).allowed);
  Decision d = gcra(st, t0, 10, 1 * s, 2, 1);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_us, 100 * ms);
}

TEST(Gcra, NoTwiceTheLimitAcrossAnyEdge) {
  GcraState st;
  int allowed = 0;
  for (int i = 0; i < 15; ++i) allowed += gcra(st, t0 + 990 * ms, 10, 1 * s, 10, 1).allowed;
  for (int i = 0; i < 15; ++i) allowed += gcra(st, t0 + 1010 * ms, 10, 1 * s, 10, 1).allowed;
  EXPECT_EQ(allowed, 10) << "20 ms at 10/s refill less than one unit";
}

TEST(Gcra, PeekDoesNotMoveTheArrivalTimeAndCostTakesSeveralUnits) {
  GcraState st;
  Decision peek = gcra(st, t0, 10, 1 * s, 10, 0);
  EXPECT_TRUE(peek.allowed);
  EXPECT_EQ(peek.remaining, 10);
  EXPECT_EQ(st.tat_us, 0);
  Decision d = gcra(st, t0, 10, 1 * s, 10, 7);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 3);
  Decision too_much = gcra(st, t0, 10, 1 * s, 10, 4);
  EXPECT_FALSE(too_much.allowed);
  EXPECT_EQ(too_much.remaining, 3) << "what is left, even though 4 do not fit";
  EXPECT_EQ(too_much.retry_after_us, 100 * ms);
}

TEST(Results, MakeResultIsInUtcAndRoundsRetryAfterUp) {
  Decision d{false, 0, 1'500'001, 1'000'001};
  RateLimitResult r = make_result(d, t0, RateLimit{5, std::chrono::seconds(2)}, DecidedBy::redis);
  EXPECT_EQ(to_unix_us(r.checked_at), t0);
  EXPECT_EQ(to_unix_us(r.reset_at), t0 + 1'500'001);
  EXPECT_EQ(r.retry_after, std::chrono::milliseconds(1001));
  EXPECT_EQ(r.limit, 5);
  EXPECT_EQ(r.window, std::chrono::seconds(2));
  EXPECT_EQ(r.decided_by, DecidedBy::redis);
  EXPECT_FALSE(r.unavailable_error);
  // 1700000000 s after the Unix epoch is 2023-11-14T22:13:20Z whatever the local zone.
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::seconds>(r.checked_at.time_since_epoch()).count(),
      1'700'000'000);
}

TEST(Results, PolicyResultsSayWhatHappened) {
  const auto now = std::chrono::system_clock::now();
  const auto why = make_error_code(errc::timeout);
  RateLimit rate{10, std::chrono::seconds(60)};
  RateLimitResult open = policy_result(true, rate, 3, now, why);
  EXPECT_TRUE(open.allowed);
  EXPECT_EQ(open.decided_by, DecidedBy::failed_open);
  EXPECT_EQ(open.remaining, 7);
  EXPECT_EQ(open.retry_after.count(), 0);
  EXPECT_EQ(open.reset_at, now + std::chrono::seconds(60));
  EXPECT_EQ(open.unavailable_error, why);
  RateLimitResult closed = policy_result(false, rate, 3, now, why);
  EXPECT_FALSE(closed.allowed);
  EXPECT_EQ(closed.decided_by, DecidedBy::failed_closed);
  EXPECT_EQ(closed.remaining, 0);
  EXPECT_EQ(closed.retry_after, std::chrono::seconds(1));
  EXPECT_EQ(closed.unavailable_error, why);
  RateLimitResult short_window =
      policy_result(false, RateLimit{10, std::chrono::milliseconds(200)}, 1, now, why);
  EXPECT_EQ(short_window.retry_after, std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace asyncredis::detail::ratelimit
