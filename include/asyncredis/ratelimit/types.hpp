// The vocabulary of rate limiting: strategies, a limit, and the result of a check.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <system_error>

namespace asyncredis {

/// How requests are counted. All three use one clock per decision: Redis's TIME for the
/// RateLimiter (so clients with skewed clocks agree), the process's clock for LocalRateLimiter.
enum class RateLimitStrategy {
  /// Counter per window of `window` length, key `<prefix>:<key>:<floor(unix time / window)>`,
  /// the Python seed's layout. Simple and cheap; lets up to 2x the limit through around a
  /// window edge (a burst at the end of one window, another at the start of the next).
  /// Denied units are counted too, as the seed's INCR-always does: a counter both services
  /// share must mean "units asked for" to both, or one side would read the other's denials
  /// as admissions. So a client that keeps sending while denied stays denied until the
  /// window ends (never longer).
  fixed_window,
  /// Sliding-window counter: the previous window's count weighted by how much of it still
  /// overlaps the sliding window, plus the current window's count. No 2x burst at an edge.
  /// This and GCRA count only allowed units: their state carries over from window to window,
  /// so counting denials would lock a persistent client out indefinitely.
  sliding_window,
  /// Generic cell rate algorithm (as go-redis/redis_rate): `limit` per `window` as a steady
  /// rate, with up to `burst` requests at once. One small value per key and rate: checks of
  /// one key with different limits, windows or bursts are independent.
  gcra,
};

/// What a RateLimiter does when Redis cannot be reached (see is_unavailable()).
enum class OnUnavailable {
  fail_open,       ///< allow the request, and say so (DecidedBy::failed_open)
  fail_closed,     ///< deny the request, and say so (DecidedBy::failed_closed)
  local_fallback,  ///< decide with an in-process limiter of the same strategy (per process!)
};

/// Which path produced a RateLimitResult.
enum class DecidedBy {
  redis,           ///< Redis counted (or, for peek, read) the request
  failed_open,     ///< Redis was unreachable; allowed by policy
  failed_closed,   ///< Redis was unreachable; denied by policy
  local_fallback,  ///< decided by the in-process limiter (Redis unreachable, or LocalRateLimiter)
};

/// A limit: `limit` units (requests, or their cost) per `window`.
struct RateLimit {
  std::int64_t limit = 0;               ///< 1 .. 10^12
  std::chrono::milliseconds window{0};  ///< 1 ms .. 366 days
  /// GCRA only: how many units may be taken at once; 0 means `limit` (redis_rate's PerSecond
  /// etc. do the same). Ignored by the window strategies.
  std::int64_t burst = 0;

  /// GCRA's burst as used: `burst`, or `limit` when burst is 0.
  std::int64_t effective_burst() const noexcept { return burst > 0 ? burst : limit; }
};

/// The outcome of a check or peek (RateLimiter, LocalRateLimiter); what
/// rate_limit_headers() turns into HTTP headers.
struct RateLimitResult {
  bool allowed = false;    ///< whether the units were (for a peek: one more would be) allowed
  std::int64_t limit = 0;  ///< the limit checked against
  /// Units that may still be taken now (after this request, if it was counted). Never negative.
  std::int64_t remaining = 0;
  /// When the whole limit is available again if nothing more is taken: the end of the window
  /// (fixed), the end of the window whose count still weighs (sliding), the time the GCRA
  /// bucket is full again. A UTC instant (system_clock counts Unix time).
  std::chrono::system_clock::time_point reset_at{};
  /// How long to wait before a request of the same cost can be allowed; 0 when allowed.
  std::chrono::milliseconds retry_after{0};
  std::chrono::milliseconds window{0};  ///< the window checked against
  /// The instant of the decision on the deciding clock (Redis's TIME when decided_by == redis),
  /// so reset_at - checked_at is free of client clock skew.
  std::chrono::system_clock::time_point checked_at{};
  DecidedBy decided_by = DecidedBy::redis;  ///< which path decided
  /// Why Redis was not used (not_connected, timeout, ...); empty when decided_by == redis.
  std::error_code unavailable_error{};
};

/// The enumerator's name ("fixed_window", "sliding_window", "gcra"), for logs and metrics.
std::string_view to_string(RateLimitStrategy strategy) noexcept;
/// The enumerator's name ("fail_open", ...), for logs and metrics.
std::string_view to_string(OnUnavailable policy) noexcept;
/// The enumerator's name ("redis", "failed_open", ...), for logs and metrics.
std::string_view to_string(DecidedBy decided_by) noexcept;

namespace detail {
// Throws Error(errc::invalid_argument) naming the bad value when `rate` is out of range, when
// cost is negative, or when cost exceeds the limit (or GCRA's burst): such a request could
// never be allowed, which is a caller's bug rather than a rate-limit decision.
void validate_check(const RateLimit& rate, std::int64_t cost, RateLimitStrategy strategy);
}  // namespace detail

}  // namespace asyncredis
