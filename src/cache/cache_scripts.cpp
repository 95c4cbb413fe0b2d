#include "cache/cache_scripts.hpp"

#include <string>

namespace asyncredis::detail {

namespace {

// Redis's clock in microseconds: one clock for every process sharing the counter. A script that
// reads TIME and then writes must replicate its effects, not itself (the default since Redis 5).
constexpr const char* kClockPrelude = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
)lua";

Script with_clock(const char* body) {
  return Script(std::string(kClockPrelude) + body);
}

}  // namespace

const Script& generation_read_script() {
  static const Script script = with_clock(R"lua(
local g = redis.call('GET', KEYS[1])
if g and tonumber(g) then return g end
g = string.format('%.0f', now_us())
redis.call('SET', KEYS[1], g)
return g
)lua");
  return script;
}

const Script& generation_bump_script() {
  static const Script script = with_clock(R"lua(
local now = now_us()
local g = tonumber(redis.call('GET', KEYS[1]))
if not g or g < now then redis.call('SET', KEYS[1], string.format('%.0f', now - 1)) end
return redis.call('INCR', KEYS[1])
)lua");
  return script;
}

const Script& delete_if_unchanged_script() {
  static const Script script(R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua");
  return script;
}

}  // namespace asyncredis::detail
