// The cache's Lua scripts. Every key a script touches is in KEYS (a Redis Cluster routes by
// them); each runs atomically on the server.
#pragma once

#include "asyncredis/script.hpp"

namespace asyncredis::detail {

// KEYS[1]: a namespace's generation counter. Replies with the generation; a counter that is
// missing (or not a number) starts at Redis's clock in microseconds (TIME), so a lost counter
// restarts above every generation handed out before (see generation_bump_script).
const Script& generation_read_script();

// KEYS[1]: a namespace's generation counter. Moves it to Redis's clock in microseconds if it
// is behind (or missing), then INCRs it; replies with the new generation. So generations never
// run ahead of Redis's clock by more than the bumps of one microsecond, and a counter that is
// evicted or deleted restarts, at the next read, above every one handed out before.
const Script& generation_bump_script();

// KEYS[1]: a cache key. ARGV[1]: the value a computation stored. Deletes the key if it still
// holds exactly that value (a stale store an invalidation raced with); replies 1 if it did.
const Script& delete_if_unchanged_script();

}  // namespace asyncredis::detail
