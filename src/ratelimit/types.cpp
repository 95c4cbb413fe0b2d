// Names of the rate-limit enums, and the range checks every check() runs before anything else.
#include "asyncredis/ratelimit/types.hpp"

#include <string>

#include "asyncredis/error.hpp"

namespace asyncredis {

std::string_view to_string(RateLimitStrategy strategy) noexcept {
  switch (strategy) {
    case RateLimitStrategy::fixed_window:
      return "fixed_window";
    case RateLimitStrategy::sliding_window:
      return "sliding_window";
    case RateLimitStrategy::gcra:
      return "gcra";
  }
  return "unknown";
}

std::string_view to_string(OnUnavailable policy) noexcept {
  switch (policy) {
    case OnUnavailable::fail_open:
      return "fail_open";
    case OnUnavailable::fail_closed:
      return "fail_closed";
    case OnUnavailable::local_fallback:
      return "local_fallback";
  }
  return "unknown";
}

std::string_view to_string(DecidedBy decided_by) noexcept {
  switch (decided_by) {
    case DecidedBy::redis:
      return "redis";
    case DecidedBy::failed_open:
      return "failed_open";
    case DecidedBy::failed_closed:
      return "failed_closed";
    case DecidedBy::local_fallback:
      return "local_fallback";
  }
  return "unknown";
}

namespace detail {

namespace {
// Bounds keep every quantity exact in a Lua number (a double: integers to 2^53) on Redis's
// side: microsecond times up to ~2^51 plus two windows, counts far below 2^53.
constexpr std::int64_t max_limit = 1'000'000'000'000;
constexpr std::chrono::milliseconds max_window = std::chrono::hours(24 * 366);

[[noreturn]] void invalid(const std::string& what) {
  throw Error(errc::invalid_argument, "rate limit: " + what);
}
}  // namespace

void validate_check(const RateLimit& rate, std::int64_t cost, RateLimitStrategy strategy) {
  if (rate.limit < 1 || rate.limit > max_limit) {
    invalid("limit must be 1.." + std::to_string(max_limit) + ", got " +
            std::to_string(rate.limit));
  }
  if (rate.window.count() < 1 || rate.window > max_window) {
    invalid("window must be 1 ms..366 days, got " + std::to_string(rate.window.count()) + " ms");
  }
  if (rate.burst < 0 || rate.burst > max_limit) {
    invalid("burst must be 0 (the limit) or 1.." + std::to_string(max_limit) + ", got " +
            std::to_string(rate.burst));
  }
  if (cost < 0) invalid("cost must not be negative, got " + std::to_string(cost));
  const bool gcra = strategy == RateLimitStrategy::gcra;
  const std::int64_t most = gcra ? rate.effective_burst() : rate.limit;
  if (cost > most) {
    invalid("cost " + std::to_string(cost) + " exceeds the " + (gcra ? "burst " : "limit ") +
            std::to_string(most) + ": such a request could never be allowed");
  }
}

}  // namespace detail
}  // namespace asyncredis
