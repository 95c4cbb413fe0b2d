// The Sentinel parts of RedisSettings' URL reader and writer and its environment reader
// (settings_sentinel.cpp).
#pragma once

#include <string>
#include <string_view>

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

// Whether `scheme` (lower case) is redis-sentinel or rediss-sentinel.
bool is_sentinel_scheme(std::string_view scheme);

// Parses redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db][?query]#master
// (rediss-sentinel: TLS to the sentinels and the data nodes). The user and password are the
// data nodes'; a sentinel without a port is on 26379; the master name is percent-decoded.
// Throws Error(errc::invalid_setting) naming the URL part and the bad value.
RedisSettings sentinel_from_url(std::string_view url);

// The scheme url() writes for settings over Sentinel: "rediss-sentinel://" when either the
// data nodes or the sentinels use TLS (a URL must never turn TLS off), else "redis-sentinel://".
std::string sentinel_scheme(const RedisSettings& settings);

// Appends what follows the user information in url()'s redis-sentinel form:
// "host:port,host:port/db#master", hosts escaped as url() escapes a host, every port written,
// the master name percent-escaped where sentinel_from_url() would misread it.
void append_sentinel_url_tail(std::string& out, const SentinelSettings& sentinel, int db);

// "host:port,host:port" (REDIS_SENTINELS) into addresses; `name` names the setting in errors.
std::vector<SentinelAddress> parse_sentinel_list(std::string_view name, std::string_view list);

// Checks settings.sentinel (called by validate()): a master name, hosts and ports.
void validate_sentinel(const SentinelSettings& sentinel);

}  // namespace asyncredis::detail
