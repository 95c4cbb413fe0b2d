// The three strategies as pure functions over a small state, in microseconds since the Unix
// epoch. LocalRateLimiter runs these; the Lua scripts in lua_scripts.cpp are the same
// arithmetic on Redis's side (keep them in step: same formulas, same rounding).
#pragma once

#include <chrono>
#include <cstdint>

#include "asyncredis/ratelimit/types.hpp"

namespace asyncredis::detail::ratelimit {

struct Decision {
  bool allowed = false;
  std::int64_t remaining = 0;
  std::int64_t reset_after_us = 0;  // until the whole limit is available again
  std::int64_t retry_after_us = 0;  // 0 when allowed
};

// Fixed window. `count` is every unit asked for in the window, denied ones included (the
// Python seed's INCR-always semantics, so both sides read the shared counter the same way).
struct FixedWindowState {
  std::int64_t index = -1;  // floor(now / window); -1: nothing counted yet
  std::int64_t count = 0;
};
// cost 0 is a peek: nothing is counted, `allowed` says whether one unit would be.
Decision fixed_window(FixedWindowState& state, std::int64_t now_us, std::int64_t limit,
                      std::int64_t window_us, std::int64_t cost);
// When the state can be forgotten: the end of its window.
std::int64_t expires_at_us(const FixedWindowState& state, std::int64_t window_us);

// Sliding-window counter: previous window's count weighted by its overlap with the sliding
// window ending now, plus the current window's. Only allowed units are counted.
struct SlidingWindowState {
  std::int64_t index = -1;
  std::int64_t previous = 0;  // count of window index - 1
  std::int64_t current = 0;   // count of window index
};
Decision sliding_window(SlidingWindowState& state, std::int64_t now_us, std::int64_t limit,
                        std::int64_t window_us, std::int64_t cost);
// The end of the window after the state's: until then its count still weighs.
std::int64_t expires_at_us(const SlidingWindowState& state, std::int64_t window_us);

// GCRA: the theoretical arrival time (TAT) advances by window/limit per allowed unit; a request
// is allowed when TAT after it is at most burst * window/limit ahead of now.
struct GcraState {
  double tat_us = 0;  // 0: nothing counted yet
};
Decision gcra(GcraState& state, std::int64_t now_us, std::int64_t limit, std::int64_t window_us,
              std::int64_t burst, std::int64_t cost);
// When the bucket is full again, which is the same as having no state.
std::int64_t expires_at_us(const GcraState& state);

// The result a Decision made at now_us stands for.
RateLimitResult make_result(const Decision& decision, std::int64_t now_us, const RateLimit& rate,
                            DecidedBy decided_by);

// The result of a policy decision at `now` for an unreachable Redis (`why`). Allowing
// (fail_open): remaining = limit - cost, what a fresh window would say since nothing was
// counted, and reset_at = now + window. Denying (fail_closed): remaining 0 and retry_after =
// min(window, 1 s), since Redis may be back any moment and an outage is no reason to hold a
// client off for a whole window.
RateLimitResult policy_result(bool allow, const RateLimit& rate, std::int64_t cost,
                              std::chrono::system_clock::time_point now, std::error_code why);

std::int64_t to_unix_us(std::chrono::system_clock::time_point t) noexcept;

}  // namespace asyncredis::detail::ratelimit
