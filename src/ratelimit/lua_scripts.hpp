// The strategies' Lua scripts (one round trip each, atomic on the server).
//
// Every script reads Redis's clock (TIME) and replies with five integers:
//   {allowed (1/0), remaining, now (Unix µs), reset_after (µs), retry_after (µs)}
// ARGV: limit, window in milliseconds, cost (0: peek), then for the window strategies the
// window index of KEYS[1], for GCRA the burst. Every key a script touches is in KEYS (a Redis
// Cluster routes by them). The window strategies answer allowed = -1 when the window of Redis's
// clock is not among their KEYS: ask again around the window of the reply's `now`.
#pragma once

#include "asyncredis/script.hpp"

namespace asyncredis::detail::ratelimit {

// KEYS: "<prefix>:<key>:<index>" (the seed's layout) for three consecutive window indexes,
// the client's current one in the middle.
const Script& fixed_window_script();
// KEYS: "<prefix>:<key>:sw:<index>" for four consecutive window indexes, the client's current
// one third (the current window's count and the previous one's).
const Script& sliding_window_script();
// KEYS[1] = "<prefix>:<key>:gcra:<limit>:<window ms>:<burst>"; holds the theoretical arrival
// time (µs).
const Script& gcra_script();

// The sentinel `allowed` of a window script that was not given the current window's keys.
inline constexpr long long window_not_given = -1;

}  // namespace asyncredis::detail::ratelimit
