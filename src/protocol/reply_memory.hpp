// What a decoded Reply costs in memory, as the library's limits count it: every value its
// Reply object plus the bytes of its text. Counting wire bytes alone is not enough: an array
// of "+\r\n" elements takes ~24 times its wire size once decoded.
#pragma once

#include <cstddef>

#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

// The memory one element costs besides its text.
inline constexpr std::size_t kReplyOverhead = sizeof(Reply);

inline std::size_t memory_of(const Reply& reply) noexcept {
  std::size_t total = kReplyOverhead + reply.str().size();
  for (const Reply& element : reply.elements()) total += memory_of(element);
  return total;
}

}  // namespace asyncredis::detail
