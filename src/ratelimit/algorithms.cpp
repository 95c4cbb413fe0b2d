// The strategies' arithmetic; see algorithms.hpp. lua_scripts.cpp mirrors every formula here.
#include "ratelimit/algorithms.hpp"

#include <algorithm>
#include <cmath>

namespace asyncredis::detail::ratelimit {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Rounds a wait up to whole microseconds: waiting a fraction less would be denied again.
std::int64_t ceil_us(double us) {
  return static_cast<std::int64_t>(std::ceil(us));
}

// floor() that forgives the last bits of a division, so 2.9999999999 units left count as 3.
// Differences that matter are whole microseconds over an interval, far above 1e-9.
std::int64_t floor_units(double units) {
  return std::max<std::int64_t>(0, static_cast<std::int64_t>(std::floor(units + 1e-9)));
}

}  // namespace

Decision fixed_window(FixedWindowState& state, std::int64_t now_us, std::int64_t limit,
                      std::int64_t window_us, std::int64_t cost) {
  const std::int64_t index = floor_div(now_us, window_us);
  if (state.index != index) state = FixedWindowState{index, 0};
  const std::int64_t window_end = (index + 1) * window_us;
  Decision d;
  if (cost > 0) {
    state.count += cost;
    d.allowed = state.count <= limit;
  } else {
    d.allowed = state.count < limit;
  }
  d.remaining = std::max<std::int64_t>(0, limit - state.count);
  d.reset_after_us = window_end - now_us;
  d.retry_after_us = d.allowed ? 0 : window_end - now_us;
  return d;
}

std::int64_t expires_at_us(const FixedWindowState& state, std::int64_t window_us) {
  return (state.index + 1) * window_us;
}

Decision sliding_window(SlidingWindowState& state, std::int64_t now_us, std::int64_t limit,
                        std::int64_t window_us, std::int64_t cost) {
  const std::int64_t index = floor_div(now_us, window_us);
  if (state.index == index - 1) {
    state = SlidingWindowState{index, state.current, 0};
  } else if (state.index != index) {
    state = SlidingWindowState{index, 0, 0};
  }
  const double window = static_cast<double>(window_us);
  const double elapsed = static_cast<double>(now_us - index * window_us);
  const double previous = static_cast<double>(state.previous);
  double estimate = previous * ((window - elapsed) / window) + static_cast<double>(state.current);
  const std::int64_t need = cost > 0 ? cost : 1;
  Decision d;
  d.allowed = estimate + static_cast<double>(need) <= static_cast<double>(limit);
  if (d.allowed && cost > 0) {
    state.current += cost;
    estimate += static_cast<double>(cost);
  }
  d.remaining = floor_units(static_cast<double>(limit) - estimate);
  if (!d.allowed) {
    // The estimate falls as the previous window slides out (slope previous / window), then
    // in the next window as the current one does. Find when estimate + need <= limit.
    const double room = static_cast<double>(limit - need);  // >= 0: need <= limit
    const double current = static_cast<double>(state.current);
    double wait;
    if (current <= room) {
      // Denied with current <= room means previous > 0: the estimate exceeds current.
      wait = (window - (room - current) * window / std::max(previous, 1.0)) - elapsed;
    } else {
      wait = (window - elapsed) + (window - room * window / current);
    }
    d.retry_after_us = std::max<std::int64_t>(1, ceil_us(wait));
  }
  if (state.current > 0) {
    d.reset_after_us = (index + 2) * window_us - now_us;
  } else if (state.previous > 0) {
    d.reset_after_us = (index + 1) * window_us - now_us;
  }
  return d;
}

std::int64_t expires_at_us(const SlidingWindowState& state, std::int64_t window_us) {
  return (state.index + 2) * window_us;
}

Decision gcra(GcraState& state, std::int64_t now_us, std::int64_t limit, std::int64_t window_us,
              std::int64_t burst, std::int64_t cost) {
  const double now = static_cast<double>(now_us);
  const double interval = static_cast<double>(window_us) / static_cast<double>(limit);
  const double tolerance = interval * static_cast<double>(burst);
  double tat = std::max(state.tat_us, now);
  const std::int64_t need = cost > 0 ? cost : 1;
  const double new_tat = tat + interval * static_cast<double>(need);
  const double allow_at = new_tat - tolerance;
  Decision d;
  d.allowed = now >= allow_at;
  if (d.allowed && cost > 0) {
    tat = new_tat;
    state.tat_us = tat;
  }
  d.remaining = floor_units((now - tat + tolerance) / interval);
  d.retry_after_us = d.allowed ? 0 : std::max<std::int64_t>(1, ceil_us(allow_at - now));
  d.reset_after_us = ceil_us(tat - now);
  return d;
}

std::int64_t expires_at_us(const GcraState& state) {
  return ceil_us(state.tat_us);
}

std::int64_t to_unix_us(std::chrono::system_clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

namespace {

std::chrono::system_clock::time_point from_unix_us(std::int64_t us) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(us)));
}

// Rounded up: telling a client to retry a fraction of a millisecond early gets it denied.
std::chrono::milliseconds ceil_ms(std::int64_t us) {
  return std::chrono::ceil<std::chrono::milliseconds>(std::chrono::microseconds(us));
}

}  // namespace

RateLimitResult make_result(const Decision& decision, std::int64_t now_us, const RateLimit& rate,
                            DecidedBy decided_by) {
  RateLimitResult r;
  r.allowed = decision.allowed;
  r.limit = rate.limit;
  r.remaining = decision.remaining;
  r.checked_at = from_unix_us(now_us);
  r.reset_at = from_unix_us(now_us + decision.reset_after_us);
  r.retry_after =
      decision.allowed ? std::chrono::milliseconds(0) : ceil_ms(decision.retry_after_us);
  r.window = rate.window;
  r.decided_by = decided_by;
  return r;
}

RateLimitResult policy_result(bool allow, const RateLimit& rate, std::int64_t cost,
                              std::chrono::system_clock::time_point now, std::error_code why) {
  RateLimitResult r;
  r.allowed = allow;
  r.limit = rate.limit;
  r.window = rate.window;
  r.checked_at = now;
  r.unavailable_error = why;
  if (allow) {
    r.remaining = std::max<std::int64_t>(0, rate.limit - cost);
    r.reset_at = now + rate.window;
    r.decided_by = DecidedBy::failed_open;
  } else {
    r.retry_after = std::min<std::chrono::milliseconds>(rate.window, std::chrono::seconds(1));
    r.reset_at = now + r.retry_after;
    r.decided_by = DecidedBy::failed_closed;
  }
  return r;
}

}  // namespace asyncredis::detail::ratelimit
