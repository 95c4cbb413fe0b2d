// Watchdog: when a connection must wake up and what is due then. One timer serves every
// deadline a connection has: requests' timeouts, the health check of a silent connection,
// replies owed too long to requests given up, the end of a graceful stop. This class decides;
// the connection keeps the timer and acts. It has no clock of its own: every call says `now`.
//
//   timer.expires_at(*watchdog.next(queue));
//   ... on expiry:
//   Watchdog::Due due = watchdog.wake(now, queue, reads, busy);
//   if (due.expire) queue.expire(now, ...);  if (due.ping) send a PING; ...
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "net/request_queue.hpp"

namespace asyncredis::detail {

class Watchdog {
 public:
  // health_interval: PING a connection that read nothing for this long (0: never).
  // owed_limit: replace a connection whose oldest owed reply is this late.
  Watchdog(std::chrono::milliseconds health_interval, std::chrono::milliseconds owed_limit)
      : health_interval_(health_interval), owed_limit_(owed_limit) {}

  // The connection is up (health checks and the owed limit apply) or not.
  void connected(Clock::time_point now, std::uint64_t reads);
  void disconnected() noexcept { up_ = false; }
  // A graceful stop began: it ends at `until` whatever is still in flight.
  void draining_until(Clock::time_point until) noexcept { stop_at_ = until; }
  void stopped() noexcept {
    up_ = false;
    stop_at_.reset();
  }

  struct Due {
    bool expire = false;         // a request's deadline passed: RequestQueue::expire(now)
    bool ping = false;           // nothing was read for a health interval: check with a PING
    bool owed_too_long = false;  // an owed reply is owed_limit late: replace the connection
    bool stop = false;           // the graceful stop's time is up
  };
  // What is due at `now`. `reads` counts the reads so far; `quiet_allowed` says silence is no
  // sign of trouble now (a lease running a blocking command), which skips the health check.
  Due wake(Clock::time_point now, const RequestQueue& queue, std::uint64_t reads,
           bool quiet_allowed);

  // When wake() next has something to do; nothing: never. It may be early (what it was for
  // ended otherwise); wake() then finds nothing due.
  std::optional<Clock::time_point> next(const RequestQueue& queue) const;

 private:
  const std::chrono::milliseconds health_interval_;
  const std::chrono::milliseconds owed_limit_;
  bool up_ = false;
  Clock::time_point next_check_{};
  std::uint64_t reads_at_check_ = 0;
  std::optional<Clock::time_point> stop_at_;
};

}  // namespace asyncredis::detail
