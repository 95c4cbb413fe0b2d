// The strategies at a window edge on a real server, timed by the server's clock: the fixed
// window lets twice the limit through around an edge, the sliding window and GCRA do not; and
// a denial's retry_after is long enough, and not much longer.
#include <gtest/gtest.h>

#include <set>

#include "asyncredis/asyncredis.hpp"
#include "ratelimit_server_clock.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr milliseconds window = 1s;
constexpr std::int64_t limit = 10;

// retry_after is the exact wait (µs, on Redis's clock) rounded up to whole milliseconds, so
// checked_at + retry_after lies up to this much after the exact moment it stands for.
constexpr milliseconds kRetryAfterRounding = 1ms;

// The edges are those of Redis's clock, which decides; these wait on it (test::until_server_time).
// Waits until `lead` or less before the next window edge (the one after, if this one is too
// close to catch).
asio::awaitable<void> wait_until_before_edge(RedisClient& c, milliseconds lead) {
  const std::int64_t w = window.count();
  const std::int64_t now = co_await test::server_ms(c);
  const std::int64_t target = now / w + (w - now % w > lead.count() + 30 ? 0 : 1);
  EXPECT_TRUE(co_await test::until_server_time(
      c, [&](std::int64_t t) { return t / w == target && w - t % w <= lead.count(); }));
}

// Waits until `after` past the next window edge.
asio::awaitable<void> wait_past_edge(RedisClient& c, milliseconds after) {
  const std::int64_t w = window.count();
  const std::int64_t start = co_await test::server_ms(c) / w;
  EXPECT_TRUE(co_await test::until_server_time(
      c, [&](std::int64_t t) { return t / w > start && t % w >= after.count(); }));
}

struct Burst {
  int allowed = 0;
  std::set<std::int64_t> windows;  // the window indexes the checks were decided in
  milliseconds first{0}, last{0};  // server times of the first and last decision
};

asio::awaitable<Burst> burst(const RateLimiter& limiter, int n) {
  Burst b;
  for (int i = 0; i < n; ++i) {
    RateLimitResult r = co_await limiter.check("edge", limit, window, use_awaitable);
    EXPECT_EQ(r.decided_by, DecidedBy::redis);
    b.allowed += r.allowed;
    const auto at = std::chrono::duration_cast<milliseconds>(r.checked_at.time_since_epoch());
    b.windows.insert(at / window);
    if (i == 0) b.first = at;
    b.last = at;
  }
  co_return b;
}

struct AroundAnEdge {
  int total = -1;
  // Server time from the first decision to the last, and into the new window at the last.
  milliseconds span{0}, into_new_window{0};
};

// A burst just before an edge and one just after, timed on the server's clock.
AroundAnEdge allowed_around_an_edge(test::RedisServer& server, RateLimitStrategy strategy) {
  AroundAnEdge result;
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    RateLimiter limiter(client, {.strategy = strategy});
    co_await wait_until_before_edge(client, 250ms);
    Burst before = co_await burst(limiter, 15);
    co_await wait_past_edge(client, 100ms);
    Burst after = co_await burst(limiter, 15);
    EXPECT_EQ(before.allowed, limit) << "the first burst finds a fresh limit";
    EXPECT_EQ(before.windows.size(), 1u);
    EXPECT_EQ(after.windows.size(), 1u);
    if (!before.windows.empty() && !after.windows.empty()) {
      EXPECT_EQ(*after.windows.begin(), *before.windows.begin() + 1)
          << "the bursts must straddle one edge (the machine was too slow)";
    }
    result.total = before.allowed + after.allowed;
    result.span = after.last - before.first;
    result.into_new_window = after.last % window;
    co_await client.disconnect(use_awaitable);
  });
  return result;
}

TEST(RateLimitEdges, FixedWindowLetsTwiceTheLimitThrough) {
  test::RedisServer server;
  EXPECT_EQ(allowed_around_an_edge(server, RateLimitStrategy::fixed_window).total, 2 * limit);
}

TEST(RateLimitEdges, SlidingWindowDoesNot) {
  test::RedisServer server;
  // f into the new window the old one still weighs 1 - f: about limit * f more units
  // (~100 ms in: one).
  const AroundAnEdge r = allowed_around_an_edge(server, RateLimitStrategy::sliding_window);
  const double f = static_cast<double>(r.into_new_window.count()) / window.count();
  EXPECT_GE(r.total, limit);
  EXPECT_LE(r.total, limit + static_cast<int>(limit * f) + 1) << "at " << f << " into the window";
  EXPECT_LT(r.total, 2 * limit);
}

TEST(RateLimitEdges, GcraDoesNot) {
  test::RedisServer server;
  // At 10 per second one unit comes back every 100 ms (~350 ms between the bursts: three).
  const AroundAnEdge r = allowed_around_an_edge(server, RateLimitStrategy::gcra);
  EXPECT_GE(r.total, limit);
  EXPECT_LE(r.total, limit + r.span / (window / limit) + 1) << "over " << r.span.count() << " ms";
  EXPECT_LT(r.total, 2 * limit);
}

// Waiting retry_after is enough to be allowed again, and waiting a good deal less is not.
void expect_honest_retry_after(test::RedisServer& server, RateLimitStrategy strategy) {
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), server.settings());
    co_await client.connect(use_awaitable);
    RateLimiter limiter(client, {.strategy = strategy});
    // Start 200 ms into a window so the denial below is not at an edge.
    co_await wait_past_edge(client, 200ms);
    co_await limiter.check("retry", 4, window, 4, use_awaitable);
    RateLimitResult denied = co_await limiter.check("retry", 4, window, use_awaitable);
    EXPECT_FALSE(denied.allowed);
    EXPECT_GT(denied.retry_after, 50ms);
    EXPECT_LE(denied.retry_after, 2 * window);
    EXPECT_GE(denied.reset_at - denied.checked_at, denied.retry_after - kRetryAfterRounding);
    // Shortly before it is due (on the server's clock) still denied, and due at the same time.
    const auto due = denied.checked_at + denied.retry_after;
    const std::int64_t due_ms = std::chrono::ceil<milliseconds>(due.time_since_epoch()).count();
    EXPECT_TRUE(co_await test::until_server_time(
        client, [&](std::int64_t t) { return t >= due_ms - 150; }));
    RateLimitResult early = co_await limiter.peek("retry", 4, window, use_awaitable);
    EXPECT_LT(early.checked_at, due) << "the machine was too slow for this test";
    EXPECT_FALSE(early.allowed);
    // Both dues stand for the same exact moment, each rounded up by less than the rounding.
    EXPECT_LE(early.checked_at + early.retry_after - due, kRetryAfterRounding);
    EXPECT_GE(early.checked_at + early.retry_after - due, -kRetryAfterRounding);
    // Due (rounded up, so the exact moment has passed) on Redis's clock: allowed.
    EXPECT_TRUE(
        co_await test::until_server_time(client, [&](std::int64_t t) { return t >= due_ms; }));
    EXPECT_TRUE((co_await limiter.check("retry", 4, window, use_awaitable)).allowed);
    co_await client.disconnect(use_awaitable);
  });
}

TEST(RateLimitEdges, FixedWindowRetryAfterIsHonest) {
  test::RedisServer server;
  expect_honest_retry_after(server, RateLimitStrategy::fixed_window);
}

TEST(RateLimitEdges, SlidingWindowRetryAfterIsHonest) {
  test::RedisServer server;
  // Full current window: the wait reaches into the next window, past this one's end.
  expect_honest_retry_after(server, RateLimitStrategy::sliding_window);
}

TEST(RateLimitEdges, GcraRetryAfterIsHonest) {
  test::RedisServer server;
  expect_honest_retry_after(server, RateLimitStrategy::gcra);
}

}  // namespace
}  // namespace asyncredis
