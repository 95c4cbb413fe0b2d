// The strategies' Lua scripts (one round trip each, atomic on the server).
//
// Every script reads Redis's clock (TIME) and replies with five integers:
//   {allowed (1/0), remaining, now (Unix µs), reset_after (µs), retry_after (µs)}
// ARGV: limit, window in milliseconds, cost (0: peek), and for GCRA the burst last.
#pragma once

#include "asyncredis/script.hpp"

namespace asyncredis::detail::ratelimit {

// KEYS[1] = "<prefix>:<key>"; counts in "<prefix>:<key>:<window index>" (the seed's layout).
const Script& fixed_window_script();
// KEYS[1] = "<prefix>:<key>"; counts in "<prefix>:<key>:sw:<window index>".
const Script& sliding_window_script();
// KEYS[1] = "<prefix>:<key>:gcra:<limit>:<window ms>:<burst>"; holds the theoretical arrival
// time (µs).
const Script& gcra_script();

}  // namespace asyncredis::detail::ratelimit
