// The stored forms of a cache entry, and the early-refresh (XFetch) draw.
//
//   <JSON text>                            a value, as the Python service writes it
//   0x00 'N'                               a cached "not found"
//   0x00 'X' <delta ms> ':' <expiry ms> ':' <JSON text>
//                                          a value with its computation time and its expiry
//                                          (Unix milliseconds), for early refresh
//
// No JSON text starts with 0x00, so neither form can be mistaken for a value, JSON null
// included.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "asyncredis/detail/cache_values.hpp"

namespace asyncredis::detail {

// This library's stored forms other than plain JSON start with this byte.
constexpr char stored_form_marker = '\0';
inline bool stored_as_plain_json(std::string_view stored) noexcept {
  return stored.empty() || stored[0] != stored_form_marker;
}

struct RefreshHeader {
  bool present = false;
  std::int64_t delta_ms = 0;
  std::int64_t expiry_ms = 0;
};

// Turns what GET returned into `entry` (kind and JSON text) and `header`. An unknown 0x00 form
// is Error(errc::decode_error) naming `key`.
void parse_stored(std::string stored, std::string_view key, CacheEntry& entry,
                  RefreshHeader& header);

// What SET stores for `value`: its JSON text, or the "not found" marker.
std::string stored_form(const Computed& value);
// The same with the early-refresh header (a "not found" carries none).
std::string stored_form(const Computed& value, std::int64_t delta_ms, std::int64_t expiry_ms);

// XFetch: refresh when now - delta * beta * ln(random) >= expiry, random in (0, 1].
bool refresh_due(const RefreshHeader& header, std::int64_t now_ms, double beta,
                 double random) noexcept;

}  // namespace asyncredis::detail
