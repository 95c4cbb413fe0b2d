// LocalRateLimiter: per-key and per-window states, expiry, the LRU bound, reset, threads,
// argument checks.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "asyncredis/error.hpp"
#include "asyncredis/ratelimit/local_rate_limiter.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

// A window boundary for every window length used here.
const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

template <class F>
errc error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return static_cast<errc>(e.code().value());
  }
  return errc{};
}

TEST(LocalRateLimiter, EachStrategyLimitsPerKey) {
  for (auto strategy : {RateLimitStrategy::fixed_window, RateLimitStrategy::sliding_window,
                        RateLimitStrategy::gcra}) {
    SCOPED_TRACE(std::string(to_string(strategy)));
    LocalRateLimiter limiter(strategy);
    EXPECT_EQ(limiter.strategy(), strategy);
    const RateLimit rate{3, 10s};
    for (int i = 0; i < 3; ++i) {
      RateLimitResult r = limiter.check("a", rate, 1, t0);
      EXPECT_TRUE(r.allowed);
      EXPECT_EQ(r.remaining, 2 - i);
      EXPECT_EQ(r.limit, 3);
      EXPECT_EQ(r.window, 10s);
      EXPECT_EQ(r.decided_by, DecidedBy::local_fallback);
      EXPECT_EQ(r.checked_at, t0);
    }
    RateLimitResult denied = limiter.check("a", rate, 1, t0 + 1ms);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GT(denied.retry_after, 0ms);
    EXPECT_GT(denied.reset_at, t0);
    EXPECT_TRUE(limiter.check("b", rate, 1, t0 + 1ms).allowed) << "keys are independent";
    EXPECT_TRUE(limiter.check("a", RateLimit{3, 20s}, 1, t0 + 1ms).allowed)
        << "and so are the windows of one key";
    EXPECT_EQ(limiter.size(), 3u);
  }
}

TEST(LocalRateLimiter, GcraKeepsOneStatePerRate) {
  // 1 per 10 s and 5 per 10 s on one key: the first has used its one unit, which must not make
  // the second think its steady rate has been used up (or the other way around).
  LocalRateLimiter limiter(RateLimitStrategy::gcra);
  EXPECT_TRUE(limiter.check("k", RateLimit{1, 10s}, 1, t0).allowed);
  EXPECT_FALSE(limiter.check("k", RateLimit{1, 10s}, 1, t0).allowed);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(limiter.check("k", RateLimit{5, 10s}, 1, t0).allowed) << i;
  }
  EXPECT_FALSE(limiter.check("k", RateLimit{5, 10s}, 1, t0).allowed);
  EXPECT_TRUE(limiter.check("k", RateLimit{5, 10s, 6}, 1, t0).allowed) << "another burst";
  EXPECT_EQ(limiter.size(), 3u);
  limiter.reset("k");
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(LocalRateLimiter, FixedWindowStartsAfreshAtTheNextWindow) {
  LocalRateLimiter limiter;
  const RateLimit rate{2, 1s};
  limiter.check("k", rate, 2, t0 + 500ms);
  RateLimitResult denied = limiter.check("k", rate, 1, t0 + 600ms);
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.retry_after, 400ms);
  EXPECT_EQ(denied.reset_at, t0 + 1s);
  EXPECT_TRUE(limiter.check("k", rate, 1, t0 + 1s).allowed);
}

TEST(LocalRateLimiter, PeekNeitherCountsNorTakesASlot) {
  LocalRateLimiter limiter(RateLimitStrategy::fixed_window, 1);
  limiter.check("held", RateLimit{5, 10s}, 4, t0);
  RateLimitResult peek = limiter.check("other", RateLimit{5, 10s}, 0, t0);
  EXPECT_TRUE(peek.allowed);
  EXPECT_EQ(peek.remaining, 5);
  EXPECT_EQ(limiter.size(), 1u);
  RateLimitResult held = limiter.check("held", RateLimit{5, 10s}, 0, t0);
  EXPECT_TRUE(held.allowed);
  EXPECT_EQ(held.remaining, 1) << "the peek at 'other' did not evict 'held'";
  EXPECT_EQ(limiter.check("held", RateLimit{5, 10s}, 0, t0).remaining, 1);
}

TEST(LocalRateLimiter, ExpiredStatesAreDroppedAndMemoryIsBounded) {
  LocalRateLimiter limiter(RateLimitStrategy::fixed_window, 3);
  EXPECT_EQ(limiter.max_keys(), 3u);
  const RateLimit rate{1, 1s};
  limiter.check("k1", rate, 1, t0);
  limiter.check("k2", rate, 1, t0);
  limiter.check("k3", rate, 1, t0);
  EXPECT_FALSE(limiter.check("k1", rate, 1, t0).allowed);  // k1 is now the most recent
  limiter.check("k4", rate, 1, t0);                        // evicts k2, the least recent
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_TRUE(limiter.check("k2", rate, 1, t0).allowed) << "k2's count was evicted";
  EXPECT_FALSE(limiter.check("k4", rate, 1, t0).allowed);
  // A second later every state has expired; new keys replace them without evicting live ones.
  for (int i = 0; i < 100; ++i) limiter.check("n" + std::to_string(i), rate, 1, t0 + 1s);
  EXPECT_EQ(limiter.size(), 3u);
}

TEST(LocalRateLimiter, ResetForgetsEveryWindowOfAKey) {
  LocalRateLimiter limiter(RateLimitStrategy::gcra);
  limiter.check("k", RateLimit{1, 10s}, 1, t0);
  limiter.check("k", RateLimit{1, 20s}, 1, t0);
  limiter.check("other", RateLimit{1, 10s}, 1, t0);
  limiter.reset("k");
  EXPECT_EQ(limiter.size(), 1u);
  EXPECT_TRUE(limiter.check("k", RateLimit{1, 10s}, 1, t0).allowed);
  EXPECT_FALSE(limiter.check("other", RateLimit{1, 10s}, 1, t0).allowed);
  limiter.clear();
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(LocalRateLimiter, ConcurrentChecksAllowExactlyTheLimit) {
  for (auto strategy : {RateLimitStrategy::fixed_window, RateLimitStrategy::sliding_window,
                        RateLimitStrategy::gcra}) {
    LocalRateLimiter limiter(strategy);
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 1000; ++i) {
          if (limiter.check("shared", RateLimit{1000, 1h}, 1, t0 + 1s).allowed) ++allowed;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(allowed.load(), 1000) << to_string(strategy);
  }
}

TEST(LocalRateLimiter, UsesTheSystemClockWhenNoTimeIsGiven) {
  LocalRateLimiter limiter;
  const auto before = Clock::now();
  RateLimitResult r = limiter.check("k", RateLimit{1, 1h});
  EXPECT_TRUE(r.allowed);
  // Decisions are made to the microsecond, Redis TIME's resolution.
  EXPECT_GE(r.checked_at, std::chrono::floor<std::chrono::microseconds>(before));
  EXPECT_LE(r.checked_at, Clock::now());
}

TEST(LocalRateLimiter, RefusesArgumentsThatCouldNeverWork) {
  EXPECT_EQ(error_of([] { LocalRateLimiter bad(RateLimitStrategy::gcra, 0); }),
            errc::invalid_argument);
  LocalRateLimiter fixed;
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{0, 1s}); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{1, 0s}); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{1, -1s}); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] {
              fixed.check("k", RateLimit{1, std::chrono::hours(24 * 367)});
            }),
            errc::invalid_argument);
  EXPECT_EQ(error_of([&] {
              fixed.check("k", RateLimit{2'000'000'000'000, 1s});
            }),
            errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{5, 1s}, -1); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{5, 1s}, 6); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{5, 1s, -1}); }), errc::invalid_argument);
  EXPECT_EQ(error_of([&] { fixed.check("k", RateLimit{5, 1s}, 5); }), errc{});
  LocalRateLimiter gcra(RateLimitStrategy::gcra);
  EXPECT_EQ(error_of([&] {
              gcra.check("k", RateLimit{10, 1s, 2}, 3);
            }),
            errc::invalid_argument)
      << "GCRA's bound is the burst";
  EXPECT_EQ(error_of([&] { gcra.check("k", RateLimit{2, 1s, 10}, 8); }), errc{});
  try {
    fixed.check("k", RateLimit{5, 1s}, 6);
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("cost 6 exceeds the limit 5"), std::string::npos) << e.message();
  }
  EXPECT_EQ(fixed.size(), 1u) << "refused checks count nothing";
}

}  // namespace
}  // namespace asyncredis
