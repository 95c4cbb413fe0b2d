// HTTP response headers for a rate-limit decision.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "asyncredis/ratelimit/types.hpp"

namespace asyncredis {

/// (name, value) pairs, in the order they should be sent.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// Which header families rate_limit_headers() emits.
struct RateLimitHeaderOptions {
  /// X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset (Unix seconds, rounded up):
  /// the de-facto headers the Python seed's middleware sends.
  bool x_rate_limit = true;
  /// RateLimit-Policy and RateLimit as in draft-ietf-httpapi-ratelimit-headers-07:
  ///
  ///     RateLimit-Policy: 100;w=60
  ///     RateLimit: limit=100, remaining=3, reset=17
  ///
  /// with w the window and reset the delay until reset_at, both in whole seconds rounded up.
  bool ietf_draft = true;
  /// Retry-After (delay-seconds, rounded up, at least 1) when the request was denied.
  bool retry_after = true;
};

/// The headers describing `result`. The reset delay is measured from result.checked_at on the
/// deciding clock, so a client clock skewed from Redis's does not distort it. Never throws
/// except std::bad_alloc.
HttpHeaders rate_limit_headers(const RateLimitResult& result, RateLimitHeaderOptions options = {});

// The individual values, for frameworks that set headers one by one.

/// Seconds until result.reset_at from result.checked_at, rounded up, never negative.
long long reset_delay_seconds(const RateLimitResult& result);
/// result.reset_at as Unix seconds, rounded up (a client waiting until then finds the reset).
long long reset_unix_seconds(const RateLimitResult& result);
/// result.retry_after in whole seconds, rounded up; at least 1 for a denial, 0 when allowed.
long long retry_after_seconds(const RateLimitResult& result);

}  // namespace asyncredis
