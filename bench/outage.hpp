// asyncredis-bench --command outage (see outage.cpp).
#pragma once

#include "asyncredis/settings.hpp"

// Issues `requests` GETs over `duration` seconds against a server it has shut down; prints
// the io thread's CPU time. Returns the process's exit status.
int outage_bench(asyncredis::RedisSettings settings, long requests, double duration, bool json);
