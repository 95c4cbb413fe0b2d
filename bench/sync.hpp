// asyncredis-bench --sync (see sync.cpp).
#pragma once

#include <string>

#include "asyncredis/settings.hpp"

// `threads` caller threads share `requests` blocking GETs or SETs ("get"/"set") of a
// `value_size`-byte value through one SyncClient; prints a RESULT line (or JSON) like the other
// commands, with param = the number of caller threads. Returns the process's exit status.
int sync_bench(asyncredis::RedisSettings settings, const std::string& command, long requests,
               long threads, long value_size, bool json);
