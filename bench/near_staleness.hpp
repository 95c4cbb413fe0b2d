// asyncredis-bench --command near-staleness (see near_staleness.cpp).
#pragma once

#include "asyncredis/settings.hpp"

// `rounds` times: a key is held by a near-cached CacheService, another client SETs it, and
// the time from that SET's acknowledgement to the near cache dropping the key is measured.
// Prints p50/p99 (0 when the invalidation came before the acknowledgement). Returns the
// process's exit status.
int near_staleness_bench(asyncredis::RedisSettings settings, long rounds, bool json);
