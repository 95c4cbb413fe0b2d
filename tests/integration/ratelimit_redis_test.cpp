// RateLimiter against a real redis-server: exact counting under 1,000 concurrent checks, keys
// that always carry a TTL, peek, cost, reset, errors that are not outages, header values, and
// the counter layout the Python seed shares.
#include <gtest/gtest.h>

#include <set>

#include "asyncredis/asyncredis.hpp"
#include "ratelimit/lua_scripts.hpp"
#include "ratelimit_server_clock.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using std::chrono::milliseconds;

using test::server_ms;

// Waits (on Redis's clock, which decides) until the next window has begun if its edge is less
// than `margin` away, so what follows happens in one window.
asio::awaitable<void> keep_clear_of_edge(RedisClient& c, milliseconds window, milliseconds margin) {
  const std::int64_t w = window.count();
  const std::int64_t now = co_await server_ms(c);
  if (w - now % w >= margin.count()) co_return;
  EXPECT_TRUE(co_await test::until_server_time(c, [&](std::int64_t t) { return t / w > now / w; }));
}

template <class Awaitable>
asio::awaitable<Error> error_from(Awaitable op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    co_return e;
  }
  co_return Error(errc{}, "no error");
}

class RateLimitRedis : public test::SharedServerTest {
 protected:
  void with_client(std::function<asio::awaitable<void>(RedisClient&)> body) {
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      RedisClient client(io.get_executor(), server_->settings());
      co_await client.connect(use_awaitable);
      co_await body(client);
      co_await client.disconnect(use_awaitable);
    });
  }
};

// ---- every strategy ----------------------------------------------------------------------

class EveryStrategy : public RateLimitRedis,
                      public ::testing::WithParamInterface<RateLimitStrategy> {
 protected:
  RateLimiterOptions options() const { return {.strategy = GetParam()}; }
};

INSTANTIATE_TEST_SUITE_P(RateLimit, EveryStrategy,
                         ::testing::Values(RateLimitStrategy::fixed_window,
                                           RateLimitStrategy::sliding_window,
                                           RateLimitStrategy::gcra),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST_P(EveryStrategy, ThousandConcurrentChecksAllowExactlyTheLimit) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, options());
    const RateLimit rate{100, 1h};
    co_await keep_clear_of_edge(c, rate.window, 10s);
    // Two statements: GCC 12 evaluates `rate.window.count()` before the suspension into a
    // temporary it does not keep, and divides by garbage (zero, under ASan) after it.
    const std::int64_t now = co_await server_ms(c);
    const std::int64_t index = now / rate.window.count();
    const std::string key = GetParam() == RateLimitStrategy::gcra
                                ? limiter.redis_key("burst", rate)
                                : limiter.redis_key("burst", index);
    int done = 0, allowed = 0, failed = 0;
    std::multiset<std::int64_t> remaining_when_allowed;
    for (int i = 0; i < 1000; ++i) {
      limiter.check("burst", rate, 1, [&](std::exception_ptr e, RateLimitResult r) {
        ++done;
        if (e) {
          ++failed;
          ADD_FAILURE() << error_message_of(e);
          return;
        }
        EXPECT_EQ(r.decided_by, DecidedBy::redis);
        if (r.allowed) {
          ++allowed;
          remaining_when_allowed.insert(r.remaining);
        }
      });
    }
    // Meanwhile the counter must never be seen without a TTL (-2: not created yet is fine).
    int polls = 0;
    while (done < 1000) {
      const std::int64_t pttl = co_await c.pttl(key, use_awaitable);
      EXPECT_NE(pttl, -1) << key << " existed without a TTL";
      ++polls;
    }
    EXPECT_GT(polls, 0);
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(allowed, 100);
    // Each allowed check saw its own count: remaining 99, 98, ..., 0 once each.
    std::multiset<std::int64_t> expected;
    for (int i = 0; i < 100; ++i) expected.insert(i);
    EXPECT_EQ(remaining_when_allowed, expected);
    EXPECT_GT(co_await c.pttl(key, use_awaitable), 0);
  });
}

TEST_P(EveryStrategy, EveryKeyWrittenHasATtl) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, options());
    for (int i = 0; i < 20; ++i) {
      co_await limiter.check("user:" + std::to_string(i % 4), 5, 2s, use_awaitable);
      co_await limiter.check("long", 5, 24h, use_awaitable);
    }
    auto it = c.scan();
    int keys = 0;
    while (auto batch = co_await it.next(use_awaitable)) {
      for (const std::string& key : *batch) {
        ++keys;
        const std::int64_t pttl = co_await c.pttl(key, use_awaitable);
        EXPECT_GT(pttl, 0) << key;
        EXPECT_LE(pttl, 2 * 24 * 3600 * 1000) << key;
      }
    }
    EXPECT_GE(keys, 5);
  });
}

TEST_P(EveryStrategy, PeekDoesNotConsume) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, options());
    co_await keep_clear_of_edge(c, 1h, 5s);
    for (int i = 0; i < 5; ++i) {
      RateLimitResult p = co_await limiter.peek("k", 3, 1h, use_awaitable);
      EXPECT_TRUE(p.allowed);
      EXPECT_EQ(p.remaining, 3);
      EXPECT_EQ(p.retry_after, 0ms);
    }
    auto it = c.scan();
    while (auto batch = co_await it.next(use_awaitable)) {
      EXPECT_TRUE(batch->empty()) << "a peek wrote " << batch->front();
    }
    EXPECT_EQ((co_await limiter.check("k", 3, 1h, use_awaitable)).remaining, 2);
    EXPECT_EQ((co_await limiter.peek("k", 3, 1h, use_awaitable)).remaining, 2);
    EXPECT_EQ((co_await limiter.peek("k", RateLimit{3, 1h}, use_awaitable)).remaining, 2);
    co_await limiter.check("k", 3, 1h, 2, use_awaitable);
    RateLimitResult full = co_await limiter.peek("k", 3, 1h, use_awaitable);
    EXPECT_FALSE(full.allowed) << "one more unit would not fit";
    EXPECT_EQ(full.remaining, 0);
    EXPECT_GT(full.retry_after, 0ms);
    EXPECT_EQ((co_await limiter.peek("k", 3, 1h, use_awaitable)).remaining, 0);
  });
}

TEST_P(EveryStrategy, CostTakesSeveralUnits) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, options());
    co_await keep_clear_of_edge(c, 1h, 5s);
    RateLimitResult r = co_await limiter.check("k", 5, 1h, 3, use_awaitable);
    EXPECT_TRUE(r.allowed);
    EXPECT_EQ(r.remaining, 2);
    r = co_await limiter.check("k", 5, 1h, 3, use_awaitable);
    EXPECT_FALSE(r.allowed);
    EXPECT_GT(r.retry_after, 0ms);
    r = co_await limiter.check("k", RateLimit{5, 1h}, 1, use_awaitable);
    // The fixed window counted the denied 3 (6 of 5 used); the others did not (3 of 5).
    const bool counts_denied = GetParam() == RateLimitStrategy::fixed_window;
    EXPECT_EQ(r.allowed, !counts_denied);
    EXPECT_EQ(r.remaining, counts_denied ? 0 : 1);
    // A cost that could never fit is the caller's bug, refused before anything is sent.
    Error e = co_await error_from(
        [&]() -> asio::awaitable<void> { co_await limiter.check("k", 5, 1h, 6, use_awaitable); }());
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    e = co_await error_from(
        [&]() -> asio::awaitable<void> { co_await limiter.check("k", 0, 1h, use_awaitable); }());
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
  });
}

TEST_P(EveryStrategy, ResetForgetsTheKeyAndNothingElse) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, options());
    co_await keep_clear_of_edge(c, 1h, 5s);
    for (const char* key : {"a", "a:x", "ab", "a:7"}) {
      co_await limiter.check(key, 2, 1h, 2, use_awaitable);
      co_await limiter.check(key, 2, 1min, 2, use_awaitable);
      EXPECT_FALSE((co_await limiter.check(key, 2, 1h, use_awaitable)).allowed);
    }
    co_await limiter.reset("a", use_awaitable);
    EXPECT_TRUE((co_await limiter.check("a", 2, 1min, use_awaitable)).allowed);
    EXPECT_TRUE((co_await limiter.check("a", 2, 1h, use_awaitable)).allowed);
    for (const char* key : {"a:x", "ab", "a:7"}) {
      EXPECT_FALSE((co_await limiter.check(key, 2, 1h, use_awaitable)).allowed) << key;
    }
    co_await limiter.reset("never-seen", use_awaitable);
  });
}

// ---- the fixed window and the Python seed ------------------------------------------------

TEST_F(RateLimitRedis, FixedWindowKeyAndValueAreTheSeeds) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c);
    EXPECT_EQ(limiter.options().strategy, RateLimitStrategy::fixed_window);
    EXPECT_EQ(limiter.options().key_prefix, "ratelimit");
    co_await keep_clear_of_edge(c, 60s, 3s);
    const std::int64_t window = co_await server_ms(c) / 1000 / 60;  // seed: int(now) // 60
    const std::string key = "ratelimit:ip:10.0.0.7:" + std::to_string(window);
    EXPECT_EQ(limiter.redis_key("ip:10.0.0.7", window), key);

    RateLimitResult r = co_await limiter.check("ip:10.0.0.7", 100, 60s, use_awaitable);
    EXPECT_TRUE(r.allowed);
    EXPECT_EQ(r.remaining, 99);
    EXPECT_EQ(server_->cli({"GET", key}), "1");
    const std::int64_t ttl = co_await c.ttl(key, use_awaitable);
    EXPECT_GT(ttl, 0);
    EXPECT_LE(ttl, 60);
    // reset_at is the window's end as a UTC instant: (window + 1) * 60 Unix seconds.
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(r.reset_at.time_since_epoch()),
              std::chrono::seconds((window + 1) * 60));
    EXPECT_EQ(reset_unix_seconds(r), (window + 1) * 60);

    // The seed's limiter: INCR, then EXPIRE window. Its requests are counted here...
    server_->cli({"INCR", key});
    server_->cli({"EXPIRE", key, "60"});
    r = co_await limiter.check("ip:10.0.0.7", 100, 60s, use_awaitable);
    EXPECT_EQ(r.remaining, 97);
    // ...and ours there: what the seed's INCR would read next.
    EXPECT_EQ(server_->cli({"INCR", key}), "4");
  });
}

TEST_F(RateLimitRedis, FixedWindowCountsDeniedRequestsLikeTheSeed) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c);
    co_await keep_clear_of_edge(c, 1h, 5s);
    const std::string key = limiter.redis_key("k", co_await server_ms(c) / 3'600'000);
    for (int i = 0; i < 2; ++i) co_await limiter.check("k", 2, 1h, use_awaitable);
    RateLimitResult denied = co_await limiter.check("k", 2, 1h, use_awaitable);
    EXPECT_FALSE(denied.allowed);
    EXPECT_EQ(denied.remaining, 0);
    EXPECT_EQ(denied.retry_after,
              std::chrono::ceil<milliseconds>(denied.reset_at - denied.checked_at));
    EXPECT_EQ(server_->cli({"GET", key}), "3") << "the seed's current <= limit reading";
  });
}

TEST_F(RateLimitRedis, ACounterLeftWithoutTtlGetsOne) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c);
    co_await keep_clear_of_edge(c, 1h, 5s);
    // The seed crashed between its INCR and its EXPIRE.
    const std::string key = limiter.redis_key("k", co_await server_ms(c) / 3'600'000);
    server_->cli({"INCR", key});
    EXPECT_EQ(co_await c.ttl(key, use_awaitable), -1);
    RateLimitResult r = co_await limiter.check("k", 10, 1h, use_awaitable);
    EXPECT_EQ(r.remaining, 8);
    const std::int64_t pttl = co_await c.pttl(key, use_awaitable);
    EXPECT_GT(pttl, 0);
    EXPECT_LE(pttl, 3'600'000);
  });
}

TEST_F(RateLimitRedis, KeyPrefixIsAnOption) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    co_await keep_clear_of_edge(c, 1h, 5s);
    const std::int64_t index = co_await server_ms(c) / 3'600'000;
    RateLimiter custom(c, {.key_prefix = "api"});
    RateLimiter bare(c, {.key_prefix = ""});
    RateLimiter gcra(c, {.strategy = RateLimitStrategy::gcra, .key_prefix = "g"});
    RateLimiter sliding(c, {.strategy = RateLimitStrategy::sliding_window});
    co_await custom.check("k", 5, 1h, use_awaitable);
    co_await bare.check("k", 5, 1h, use_awaitable);
    co_await gcra.check("k", 5, 1h, use_awaitable);
    co_await sliding.check("k", 5, 1h, use_awaitable);
    for (const std::string& key :
         {"api:k:" + std::to_string(index), "k:" + std::to_string(index),
          std::string("g:k:gcra:5:3600000:5"), sliding.redis_key("k", index)}) {
      EXPECT_EQ(co_await c.exists(key, use_awaitable), 1) << key;
    }
  });
}

// ---- the window scripts' keys -------------------------------------------------------------

TEST_F(RateLimitRedis, AWindowScriptTouchesOnlyTheWindowsItWasGiven) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    // Counters of windows long past: the script must not build the current one's key itself
    // but say so, with Redis's time for the client's next try.
    const std::int64_t now_ms = co_await server_ms(c);
    const std::int64_t first = now_ms / 3'600'000 - 10;
    for (const bool sliding : {false, true}) {
      std::vector<std::string> keys;
      for (std::int64_t i = first; i < first + (sliding ? 4 : 3); ++i) {
        keys.push_back("{t}:" + std::to_string(i));  // one slot, so a cluster runs it too
      }
      const std::array<std::int64_t, 4> args{5, 3'600'000, 1, first};
      const Script& script = sliding ? detail::ratelimit::sliding_window_script()
                                     : detail::ratelimit::fixed_window_script();
      const auto reply =
          co_await c.eval<std::vector<std::int64_t>>(script, keys, args, use_awaitable);
      EXPECT_EQ(reply.size(), 5u);
      if (reply.size() != 5u) co_return;
      EXPECT_EQ(reply[0], detail::ratelimit::window_not_given);
      EXPECT_GE(reply[2] / 1000, now_ms) << "Redis's time";
      EXPECT_EQ(co_await c.command<std::int64_t>("DBSIZE", use_awaitable), 0) << "nothing written";
    }
  });
}

// ---- GCRA: one state per rate -----------------------------------------------------------

TEST_F(RateLimitRedis, GcraKeepsOneStatePerRate) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c, {.strategy = RateLimitStrategy::gcra});
    // One unit an hour and five an hour on the same key: the first rate's use must not push
    // the second's theoretical arrival time an hour ahead (nor the other way around).
    const RateLimit hourly{1, 1h}, five{5, 1h};
    EXPECT_TRUE((co_await limiter.check("k", hourly, use_awaitable)).allowed);
    EXPECT_FALSE((co_await limiter.check("k", hourly, use_awaitable)).allowed);
    for (int i = 0; i < 5; ++i) {
      RateLimitResult r = co_await limiter.check("k", five, use_awaitable);
      EXPECT_TRUE(r.allowed) << i;
      EXPECT_EQ(r.remaining, 4 - i);
    }
    EXPECT_FALSE((co_await limiter.check("k", five, use_awaitable)).allowed);
    EXPECT_FALSE((co_await limiter.peek("k", hourly, use_awaitable)).allowed);
    // Another burst is another rate.
    EXPECT_TRUE((co_await limiter.check("k", RateLimit{5, 1h, 6}, use_awaitable)).allowed);

    // The rate is in the key, in the documented format, and reset() forgets every rate.
    EXPECT_EQ(limiter.redis_key("k", five), "ratelimit:k:gcra:5:3600000:5");
    EXPECT_EQ(limiter.redis_key("k", RateLimit{5, 1h, 6}), "ratelimit:k:gcra:5:3600000:6");
    for (const RateLimit& rate : {hourly, five}) {
      EXPECT_EQ(co_await c.exists(limiter.redis_key("k", rate), use_awaitable), 1);
    }
    co_await limiter.check("k:x", five, use_awaitable);
    co_await limiter.reset("k", use_awaitable);
    EXPECT_TRUE((co_await limiter.check("k", hourly, use_awaitable)).allowed);
    EXPECT_EQ((co_await limiter.check("k", five, use_awaitable)).remaining, 4);
    EXPECT_EQ(co_await c.exists(limiter.redis_key("k:x", five), use_awaitable), 1)
        << "another key's state";
  });
}

TEST_F(RateLimitRedis, RedisKeyNeedsTheStrategysCoordinates) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter gcra(c, {.strategy = RateLimitStrategy::gcra});
    RateLimiter fixed(c);
    for (auto call :
         {std::function<void()>([&] { (void)gcra.redis_key("k", 7); }), std::function<void()>([&] {
            (void)fixed.redis_key("k", RateLimit{5, 1h});
          })}) {
      try {
        call();
        ADD_FAILURE() << "no error";
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
        EXPECT_NE(e.message().find("redis_key"), std::string::npos) << e.what();
      }
    }
    co_return;
  });
}

// ---- errors that are not outages ---------------------------------------------------------

TEST_F(RateLimitRedis, AWrongTypeKeyIsAnErrorEvenWhenFailingOpen) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    co_await keep_clear_of_edge(c, 1h, 5s);
    const std::int64_t index = co_await server_ms(c) / 3'600'000;
    RateLimiter fixed(c, {.on_unavailable = OnUnavailable::fail_open});
    server_->cli({"RPUSH", fixed.redis_key("list", index), "x"});
    Error e = co_await error_from(fixed.check("list", 5, 1h, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::server_error));
    EXPECT_NE(std::string(e.what()).find("WRONGTYPE"), std::string::npos) << e.what();

    server_->cli({"SET", fixed.redis_key("text", index), "abc"});
    e = co_await error_from(fixed.check("text", 5, 1h, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << e.what();
    e = co_await error_from(fixed.peek("text", 5, 1h, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::server_error));
    EXPECT_NE(e.message().find(fixed.redis_key("text", index)), std::string::npos) << e.what();

    RateLimiter sliding(c, {.strategy = RateLimitStrategy::sliding_window,
                            .on_unavailable = OnUnavailable::local_fallback});
    server_->cli({"SET", sliding.redis_key("text", index), "1.5"});
    e = co_await error_from(sliding.check("text", 5, 1h, use_awaitable));
    EXPECT_EQ(e.code(), make_error_code(errc::server_error)) << e.what();

    RateLimiter gcra(
        c, {.strategy = RateLimitStrategy::gcra, .on_unavailable = OnUnavailable::fail_closed});
    const RateLimit rate{5, 1h};
    server_->cli({"HSET", gcra.redis_key("hash", rate), "f", "v"});
    e = co_await error_from(gcra.check("hash", rate, use_awaitable));
    EXPECT_NE(std::string(e.what()).find("WRONGTYPE"), std::string::npos) << e.what();
    server_->cli({"SET", gcra.redis_key("text", rate), "soon"});
    e = co_await error_from(gcra.check("text", rate, use_awaitable));
    EXPECT_NE(e.message().find(gcra.redis_key("text", rate)), std::string::npos) << e.what();
  });
}

// ---- headers from real decisions ---------------------------------------------------------

TEST_F(RateLimitRedis, HeadersDescribeTheDecision) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    RateLimiter limiter(c);
    co_await keep_clear_of_edge(c, 60s, 3s);
    const std::int64_t window = co_await server_ms(c) / 60'000;
    RateLimitResult r = co_await limiter.check("h", 2, 60s, use_awaitable);
    HttpHeaders headers = rate_limit_headers(r);
    EXPECT_EQ(headers.size(), 5u);
    if (headers.size() != 5u) co_return;
    EXPECT_EQ(headers[0], (std::pair<std::string, std::string>("X-RateLimit-Limit", "2")));
    EXPECT_EQ(headers[1], (std::pair<std::string, std::string>("X-RateLimit-Remaining", "1")));
    EXPECT_EQ(headers[2], (std::pair<std::string, std::string>("X-RateLimit-Reset",
                                                               std::to_string((window + 1) * 60))));
    EXPECT_EQ(headers[3], (std::pair<std::string, std::string>("RateLimit-Policy", "2;w=60")));
    const long long reset = reset_delay_seconds(r);
    EXPECT_GE(reset, 3);
    EXPECT_LE(reset, 60);
    EXPECT_EQ(headers[4].second, "limit=2, remaining=1, reset=" + std::to_string(reset));

    co_await limiter.check("h", 2, 60s, use_awaitable);
    r = co_await limiter.check("h", 2, 60s, use_awaitable);
    headers = rate_limit_headers(r);
    EXPECT_EQ(headers.size(), 6u);
    if (headers.size() != 6u) co_return;
    EXPECT_EQ(headers[1].second, "0");
    EXPECT_EQ(headers[5].first, "Retry-After");
    EXPECT_EQ(headers[5].second, std::to_string(reset_delay_seconds(r)))
        << "a fixed window opens again when it resets";
  });
}

// ---- other command surfaces --------------------------------------------------------------

TEST_F(RateLimitRedis, WorksOverALeaseAndACommandsView) {
  with_client([&](RedisClient& c) -> asio::awaitable<void> {
    co_await keep_clear_of_edge(c, 1h, 5s);
    RateLimiter via_view(c.with_timeout(2s), c.get_executor());
    // A cluster client has no leases (README): a second view stands in for one there.
    Lease lease;
    if (!server_->is_cluster()) lease = co_await c.lease(use_awaitable);
    RateLimiter via_lease(server_->is_cluster() ? Commands(c.with_timeout(3s)) : Commands(lease),
                          c.get_executor());
    EXPECT_EQ((co_await via_view.check("shared", 3, 1h, use_awaitable)).remaining, 2);
    EXPECT_EQ((co_await via_lease.check("shared", 3, 1h, use_awaitable)).remaining, 1);
    co_await via_lease.reset("shared", use_awaitable);
    EXPECT_EQ((co_await via_view.check("shared", 3, 1h, use_awaitable)).remaining, 2);
  });
}

}  // namespace
}  // namespace asyncredis
