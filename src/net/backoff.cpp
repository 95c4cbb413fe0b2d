#include "net/backoff.hpp"

#include <algorithm>

namespace asyncredis::detail {

Backoff::Backoff(std::chrono::milliseconds min_delay, std::chrono::milliseconds max_delay,
                 std::uint64_t seed)
    : min_(std::max(min_delay, std::chrono::milliseconds(1))),
      max_(std::max(max_delay, min_)),
      random_(seed) {}

std::chrono::milliseconds Backoff::next() {
  // Cap the exponent: 2^30 ms is already far beyond any sensible max_delay.
  const unsigned exponent = std::min(attempt_, 30u);
  const auto grown = min_.count() * (std::int64_t{1} << exponent);
  const auto ceiling = std::min<std::int64_t>(grown, max_.count());
  if (attempt_ < 64) ++attempt_;
  std::uniform_int_distribution<std::int64_t> jitter(ceiling / 2, ceiling);
  return std::chrono::milliseconds(jitter(random_));
}

}  // namespace asyncredis::detail
