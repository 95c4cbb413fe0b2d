// rate_limit_headers() and its value helpers, and the names of the rate limiter's enums.
#include <gtest/gtest.h>

#include <stdexcept>

#include "asyncredis/error.hpp"
#include "asyncredis/ratelimit/headers.hpp"
#include "asyncredis/ratelimit/rate_limiter.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;

const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'700'000'000));

RateLimitResult allowed_result() {
  RateLimitResult r;
  r.allowed = true;
  r.limit = 100;
  r.remaining = 3;
  r.window = 60s;
  r.checked_at = t0 + 43s;
  r.reset_at = t0 + 60s;
  return r;
}

TEST(RateLimitHeaders, AllowedRequest) {
  const HttpHeaders expected = {
      {"X-RateLimit-Limit", "100"},
      {"X-RateLimit-Remaining", "3"},
      {"X-RateLimit-Reset", "1700000060"},
      {"RateLimit-Policy", "100;w=60"},
      {"RateLimit", "limit=100, remaining=3, reset=17"},
  };
  EXPECT_EQ(rate_limit_headers(allowed_result()), expected);
}

TEST(RateLimitHeaders, DeniedRequestAddsRetryAfterRoundedUp) {
  RateLimitResult r = allowed_result();
  r.allowed = false;
  r.remaining = 0;
  r.checked_at = t0 + 42s + 500ms;
  r.retry_after = 17500ms;
  const HttpHeaders headers = rate_limit_headers(r);
  ASSERT_EQ(headers.size(), 6u);
  EXPECT_EQ(headers[4],
            (std::pair<std::string, std::string>("RateLimit", "limit=100, remaining=0, reset=18")));
  EXPECT_EQ(headers[5], (std::pair<std::string, std::string>("Retry-After", "18")));
  r.retry_after = 200ms;
  EXPECT_EQ(retry_after_seconds(r), 1) << "a denial never says 'retry after 0 s'";
  r.retry_after = 0ms;
  EXPECT_EQ(retry_after_seconds(r), 1);
  r.allowed = true;
  EXPECT_EQ(retry_after_seconds(r), 0);
}

TEST(RateLimitHeaders, ValuesRoundUpAndNeverGoNegative) {
  RateLimitResult r = allowed_result();
  r.reset_at = t0 + 60s + 1ms;
  EXPECT_EQ(reset_unix_seconds(r), 1'700'000'061);
  EXPECT_EQ(reset_delay_seconds(r), 18);
  r.reset_at = r.checked_at - 5s;
  EXPECT_EQ(reset_delay_seconds(r), 0);
  r.remaining = -4;
  r.window = 250ms;
  const HttpHeaders headers = rate_limit_headers(r, {.x_rate_limit = false});
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].second, "100;w=1") << "the draft counts windows in whole seconds";
  EXPECT_EQ(headers[1].second, "limit=100, remaining=0, reset=0");
}

TEST(RateLimitHeaders, FamiliesCanBeLeftOut) {
  RateLimitResult r = allowed_result();
  r.allowed = false;
  r.retry_after = 3s;
  auto only_x = rate_limit_headers(r, {.ietf_draft = false, .retry_after = false});
  ASSERT_EQ(only_x.size(), 3u);
  EXPECT_EQ(only_x[0].first, "X-RateLimit-Limit");
  auto only_retry = rate_limit_headers(r, {.x_rate_limit = false, .ietf_draft = false});
  ASSERT_EQ(only_retry.size(), 1u);
  EXPECT_EQ(only_retry[0], (std::pair<std::string, std::string>("Retry-After", "3")));
}

TEST(Enums, HaveNames) {
  EXPECT_EQ(to_string(RateLimitStrategy::fixed_window), "fixed_window");
  EXPECT_EQ(to_string(RateLimitStrategy::sliding_window), "sliding_window");
  EXPECT_EQ(to_string(RateLimitStrategy::gcra), "gcra");
  EXPECT_EQ(to_string(OnUnavailable::fail_open), "fail_open");
  EXPECT_EQ(to_string(OnUnavailable::fail_closed), "fail_closed");
  EXPECT_EQ(to_string(OnUnavailable::local_fallback), "local_fallback");
  EXPECT_EQ(to_string(DecidedBy::redis), "redis");
  EXPECT_EQ(to_string(DecidedBy::failed_open), "failed_open");
  EXPECT_EQ(to_string(DecidedBy::failed_closed), "failed_closed");
  EXPECT_EQ(to_string(DecidedBy::local_fallback), "local_fallback");
}

}  // namespace
}  // namespace asyncredis
