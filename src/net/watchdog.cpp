#include "net/watchdog.hpp"

#include <algorithm>

namespace asyncredis::detail {

void Watchdog::connected(Clock::time_point now, std::uint64_t reads) {
  up_ = true;
  reads_at_check_ = reads;
  next_check_ = now + health_interval_;
}

Watchdog::Due Watchdog::wake(Clock::time_point now, const RequestQueue& queue, std::uint64_t reads,
                             bool quiet_allowed) {
  Due due;
  const auto deadline = queue.earliest_deadline();
  due.expire = deadline && *deadline <= now;
  if (up_ && queue.owes() && queue.owed_since() + owed_limit_ <= now) due.owed_too_long = true;
  if (up_ && health_interval_.count() > 0 && next_check_ <= now) {
    // Replies flowing are health enough; a whole interval of silence asks for a PING.
    due.ping = reads == reads_at_check_ && !quiet_allowed;
    reads_at_check_ = reads;
    next_check_ = now + health_interval_;
  }
  if (stop_at_ && *stop_at_ <= now) due.stop = true;
  return due;
}

std::optional<Clock::time_point> Watchdog::next(const RequestQueue& queue) const {
  std::optional<Clock::time_point> next = queue.earliest_deadline();
  const auto earlier = [&](Clock::time_point t) {
    if (!next || t < *next) next = t;
  };
  if (up_ && queue.owes()) earlier(queue.owed_since() + owed_limit_);
  if (up_ && health_interval_.count() > 0) earlier(next_check_);
  if (stop_at_) earlier(*stop_at_);
  return next;
}

}  // namespace asyncredis::detail
