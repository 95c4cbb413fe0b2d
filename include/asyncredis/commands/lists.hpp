// ListCommands: commands on lists. A key holding another type fails with errc::server_error
// (WRONGTYPE ...). The blocking forms are on a Lease only (commands/blocking.hpp).
#pragma once

#include <string_view>

namespace asyncredis {

// Which end of a list LMOVE / BLMOVE take from or push to.
enum class ListEnd { left, right };

namespace detail {
constexpr std::string_view name_of(ListEnd end) noexcept {
  return end == ListEnd::left ? "LEFT" : "RIGHT";
}
}  // namespace detail

}  // namespace asyncredis
