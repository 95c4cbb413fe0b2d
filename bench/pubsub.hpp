// asyncredis-bench --command pubsub (see pubsub.cpp).
#pragma once

#include "asyncredis/settings.hpp"

// Publishes `requests` 32-byte messages to one channel that a Subscriber of the same process
// reads, with at most `inflight` published and not yet received; prints messages delivered per
// second. Returns the process's exit status.
int pubsub_bench(asyncredis::RedisSettings settings, long requests, long inflight, bool json);
