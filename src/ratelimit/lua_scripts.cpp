// The Lua source of the strategies. The arithmetic is algorithms.cpp's, line for line: change
// both together. Lua numbers are doubles; the bounds in validate_check() keep microsecond
// times, counts and window indexes exact integers (below 2^53).
#include "ratelimit/lua_scripts.hpp"

namespace asyncredis::detail::ratelimit {

namespace {

// Shared prelude: the server's clock, and the window index with a correction step in case the
// floating-point division lands on the wrong side of a boundary.
constexpr const char* prelude = R"lua(
-- Scripts that read TIME and then write must replicate their effects, not the script
-- (the default since Redis 5; needed explicitly before that).
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2]) * 1000
local cost = tonumber(ARGV[3])
local need = cost
if need == 0 then need = 1 end

local function window_index()
  local index = math.floor(now / window)
  if index * window > now then
    index = index - 1
  elseif (index + 1) * window <= now then
    index = index + 1
  end
  return index
end

local function digits(n)
  return string.format('%.0f', n)
end

-- A counter's value, 0 when missing; anything but an integer is an error naming the key.
local function read_count(key)
  local v = redis.call('GET', key)
  if not v then return 0 end
  local n = tonumber(v)
  if not n or n ~= math.floor(n) then
    return redis.error_reply('ERR rate limit counter ' .. key .. ' is not an integer: ' .. v)
  end
  return n
end

local function floor_units(x)
  local n = math.floor(x + 1e-9)
  if n < 0 then n = 0 end
  return n
end

-- The window strategies get the counters of consecutive windows in KEYS, from window ARGV[4]
-- on (the client's guess around its own clock): a script touches no key it was not given. nil
-- when window `index` of Redis's clock is not among them; the script then answers
-- {-1, 0, now, 0, 0} and the client asks again around the window of that `now`.
local function window_key(index)
  local at = index - tonumber(ARGV[4]) + 1
  if at < 1 or at > #KEYS then return nil end
  return KEYS[at]
end
)lua";

constexpr const char* fixed_window_body = R"lua(
local index = window_index()
local key = window_key(index)
if not key then return {-1, 0, now, 0, 0} end
local window_end = (index + 1) * window
local count
if cost > 0 then
  -- Denied requests are counted too: the Python seed INCRs on every request, and a counter
  -- both services share must mean the same thing to both.
  count = redis.call('INCRBY', key, cost)
  -- A new key, or one another writer left without an expiry (the seed's INCR and EXPIRE are
  -- two commands): it gets one in this same atomic step, so it never lives forever.
  if redis.call('PTTL', key) < 0 then
    redis.call('PEXPIREAT', key, digits(window_end / 1000))
  end
else
  count = read_count(key)
  if type(count) == 'table' then return count end
end
local allowed
if cost > 0 then allowed = count <= limit else allowed = count < limit end
local remaining = limit - count
if remaining < 0 then remaining = 0 end
local retry_after = 0
if not allowed then retry_after = window_end - now end
return {allowed and 1 or 0, remaining, now, window_end - now, retry_after}
)lua";

constexpr const char* sliding_window_body = R"lua(
local index = window_index()
local elapsed = now - index * window
local current_key = window_key(index)
local previous_key = window_key(index - 1)
if not current_key or not previous_key then return {-1, 0, now, 0, 0} end
local previous = read_count(previous_key)
if type(previous) == 'table' then return previous end
local current = read_count(current_key)
if type(current) == 'table' then return current end
local estimate = previous * ((window - elapsed) / window) + current
local allowed = estimate + need <= limit
if allowed and cost > 0 then
  current = redis.call('INCRBY', current_key, cost)
  -- The count weighs until the end of the next window.
  if redis.call('PTTL', current_key) < 0 then
    redis.call('PEXPIREAT', current_key, digits((index + 2) * window / 1000))
  end
  estimate = estimate + cost
end
local remaining = floor_units(limit - estimate)
local retry_after = 0
if not allowed then
  local room = limit - need
  local wait
  if current <= room then
    wait = (window - (room - current) * window / math.max(previous, 1)) - elapsed
  else
    wait = (window - elapsed) + (window - room * window / current)
  end
  retry_after = math.max(1, math.ceil(wait))
end
local reset_after = 0
if current > 0 then
  reset_after = (index + 2) * window - now
elseif previous > 0 then
  reset_after = (index + 1) * window - now
end
return {allowed and 1 or 0, remaining, now, reset_after, retry_after}
)lua";

constexpr const char* gcra_body = R"lua(
local burst = tonumber(ARGV[4])
local interval = window / limit
local tolerance = interval * burst
local tat = now
local stored = redis.call('GET', KEYS[1])
if stored then
  tat = tonumber(stored)
  if not tat then
    return redis.error_reply('ERR rate limit state ' .. KEYS[1] .. ' is not a number: ' .. stored)
  end
  if tat < now then tat = now end
end
local new_tat = tat + interval * need
local allow_at = new_tat - tolerance
local allowed = now >= allow_at
if allowed and cost > 0 then
  tat = new_tat
  -- Kept until the bucket is full again, when no state and this state mean the same.
  redis.call('SET', KEYS[1], string.format('%.17g', tat), 'PX',
             math.max(1, math.ceil((tat - now) / 1000)))
end
local remaining = floor_units((now - tat + tolerance) / interval)
local retry_after = 0
if not allowed then retry_after = math.max(1, math.ceil(allow_at - now)) end
return {allowed and 1 or 0, remaining, now, math.ceil(tat - now), retry_after}
)lua";

}  // namespace

const Script& fixed_window_script() {
  static const Script script(std::string(prelude) + fixed_window_body);
  return script;
}

const Script& sliding_window_script() {
  static const Script script(std::string(prelude) + sliding_window_body);
  return script;
}

const Script& gcra_script() {
  static const Script script(std::string(prelude) + gcra_body);
  return script;
}

}  // namespace asyncredis::detail::ratelimit
