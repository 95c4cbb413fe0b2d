// LocalRateLimiter: the strategies in process memory, for when Redis cannot be reached.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "asyncredis/ratelimit/types.hpp"

namespace asyncredis {

/// An in-process limiter with the same strategy semantics as RateLimiter, keyed by (key,
/// window), and for GCRA by (key, window, limit, burst). It counts only what this process sees: N
/// processes falling back at once admit up to N times the limit between them. RateLimiter uses one
/// as its OnUnavailable::local_fallback; it also works alone for a single-process service.
///
/// Thread-safe (one mutex; it is meant for outages and tests, not for hot shared counters).
/// Memory is bounded: at most max_keys states; an expired state is dropped when met, and when
/// the table is full the least recently used state is evicted (forgetting that key's count,
/// which errs on the side of allowing).
class LocalRateLimiter {
 public:
  /// Throws Error(errc::invalid_argument) for max_keys == 0.
  explicit LocalRateLimiter(RateLimitStrategy strategy = RateLimitStrategy::fixed_window,
                            std::size_t max_keys = 10'000);
  /// Frees the table.
  ~LocalRateLimiter();
  /// Not copyable: the counts are this object's.
  LocalRateLimiter(const LocalRateLimiter&) = delete;
  /// Not copyable: the counts are this object's.
  LocalRateLimiter& operator=(const LocalRateLimiter&) = delete;

  /// Counts `cost` units against `key` at `now` and says whether they are allowed (see
  /// RateLimitStrategy for how each strategy counts). The result's decided_by is
  /// DecidedBy::local_fallback. cost 0 is a peek. Throws Error(errc::invalid_argument) for a
  /// rate or cost out of range (detail::validate_check).
  RateLimitResult check(std::string_view key, const RateLimit& rate, std::int64_t cost,
                        std::chrono::system_clock::time_point now);
  /// The same at the system clock's now; throws as the other check() does.
  RateLimitResult check(std::string_view key, const RateLimit& rate, std::int64_t cost = 1);

  /// Forgets every state of `key` (all windows).
  void reset(std::string_view key);
  /// Forgets everything.
  void clear();

  /// How many states are held (expired ones not yet met included).
  std::size_t size() const;
  /// The bound on size() given to the constructor.
  std::size_t max_keys() const noexcept;
  /// The strategy given to the constructor.
  RateLimitStrategy strategy() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace asyncredis
