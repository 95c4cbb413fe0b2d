// Reconnection delays: exponential growth with "equal jitter", so that many clients that
// lost the same server do not all come back in the same millisecond.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace asyncredis::detail {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
          std::uint64_t seed);

  // The delay before the next attempt: a random value in [d/2, d] where d doubles from
  // min_delay with every failed attempt, up to max_delay.
  std::chrono::milliseconds next();
  // After a successful connection: start again from min_delay.
  void reset() noexcept { attempt_ = 0; }
  unsigned attempt() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  unsigned attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace asyncredis::detail
