// rate_limit_headers(): X-RateLimit-*, the IETF draft-07 fields, Retry-After.
#include "asyncredis/ratelimit/headers.hpp"

#include <algorithm>
#include <chrono>

namespace asyncredis {

namespace {

long long ceil_seconds(std::chrono::system_clock::duration d) {
  return std::chrono::ceil<std::chrono::seconds>(d).count();
}

}  // namespace

long long reset_delay_seconds(const RateLimitResult& result) {
  return std::max(0LL, ceil_seconds(result.reset_at - result.checked_at));
}

long long reset_unix_seconds(const RateLimitResult& result) {
  return ceil_seconds(result.reset_at.time_since_epoch());
}

long long retry_after_seconds(const RateLimitResult& result) {
  if (result.allowed) return 0;
  return std::max(1LL, ceil_seconds(result.retry_after));
}

HttpHeaders rate_limit_headers(const RateLimitResult& result, RateLimitHeaderOptions options) {
  HttpHeaders headers;
  const std::string limit = std::to_string(result.limit);
  const std::string remaining = std::to_string(std::max<std::int64_t>(0, result.remaining));
  if (options.x_rate_limit) {
    headers.emplace_back("X-RateLimit-Limit", limit);
    headers.emplace_back("X-RateLimit-Remaining", remaining);
    headers.emplace_back("X-RateLimit-Reset", std::to_string(reset_unix_seconds(result)));
  }
  if (options.ietf_draft) {
    // The draft's window is whole seconds; a sub-second window is announced as 1.
    const long long window = std::max(1LL, ceil_seconds(result.window));
    headers.emplace_back("RateLimit-Policy", limit + ";w=" + std::to_string(window));
    headers.emplace_back("RateLimit", "limit=" + limit + ", remaining=" + remaining +
                                          ", reset=" + std::to_string(reset_delay_seconds(result)));
  }
  if (options.retry_after && !result.allowed) {
    headers.emplace_back("Retry-After", std::to_string(retry_after_seconds(result)));
  }
  return headers;
}

}  // namespace asyncredis
