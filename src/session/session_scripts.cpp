#include "session/session_scripts.hpp"

#include <string>

namespace asyncredis::session_detail {
namespace {

// Shared by every script. now_ms: the later of Redis's clock and the client's, so a session
// expired by either clock counts as expired (the client checks its own clock on reads).
// index_done: prunes entries whose expiry has come and makes the index expire with its
// longest-lived member (an empty sorted set is deleted by Redis itself). owner_of: the user a
// stored JSON names, lowercased; unreadable JSON owns nothing. given_keys: the session key of
// each index member, from KEYS[i] for id ARGV[i] (i >= 2), or nil when a member was not given
// (the index changed since the client read it).
constexpr const char* kPrelude = R"lua(
local function now_ms(client_now)
  local t = redis.call('TIME')
  local server = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  return math.max(server, tonumber(client_now))
end
local function index_done(index, now)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
  local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIREAT', index, string.format('%d', tonumber(last[2])))
  end
end
local function owner_of(json)
  local ok, decoded = pcall(cjson.decode, json)
  if ok and type(decoded) == 'table' and type(decoded.user_id) == 'string' then
    return string.lower(decoded.user_id)
  end
  return nil
end
local function given_keys(members)
  local keys = {}
  for i = 2, #KEYS do keys[ARGV[i]] = KEYS[i] end
  for _, id in ipairs(members) do
    if not keys[id] then return nil end
  end
  return keys
end
-- The session key's part of a write (KEYS[1]; ARGV as the scripts below): the same checks
-- and write whether the index is updated in the same script (one server) or in its own step
-- (a cluster). Each returns 1 done, 0 missing, 2 expired (removed), -1 conflict.
local function create_session()
  if tonumber(ARGV[2]) <= now_ms(ARGV[4]) then return 2 end
  if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PXAT', ARGV[2]) then return -1 end
  return 1
end
local function save_session()
  local old = redis.call('GET', KEYS[1])
  if not old then return 0 end
  local owner = owner_of(old)
  if owner and owner ~= ARGV[5] then return -1 end
  if tonumber(ARGV[2]) <= now_ms(ARGV[4]) then
    redis.call('DEL', KEYS[1])
    return 2
  end
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
  return 1
end
local function touch_session()
  local old = redis.call('GET', KEYS[1])
  if not old then return 0 end
  if old ~= ARGV[1] then return -1 end
  if ARGV[6] == '1' or tonumber(ARGV[3]) <= now_ms(ARGV[5]) then
    redis.call('DEL', KEYS[1])
    return 2
  end
  redis.call('SET', KEYS[1], ARGV[2], 'PXAT', ARGV[3])
  return 1
end
-- The index (KEYS[2]) after a save or touch of member `id`: re-scored when the session was
-- written, dropped when it is gone, left alone on a conflict.
local function index_follows(result, expires, id, client_now)
  if result == 1 then
    redis.call('ZADD', KEYS[2], expires, id)
    index_done(KEYS[2], now_ms(client_now))
  elseif result ~= -1 then
    redis.call('ZREM', KEYS[2], id)
  end
  return result
end
)lua";

Script make(const char* body) {
  return Script(std::string(kPrelude) + body);
}

}  // namespace

const Script& create_script() {
  static const Script script = make(R"lua(
local result = create_session()
if result == 1 then
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
  index_done(KEYS[2], now_ms(ARGV[4]))
end
return result
)lua");
  return script;
}

const Script& save_script() {
  static const Script script = make(R"lua(
return index_follows(save_session(), ARGV[2], ARGV[3], ARGV[4])
)lua");
  return script;
}

const Script& touch_script() {
  static const Script script = make(R"lua(
return index_follows(touch_session(), ARGV[3], ARGV[4], ARGV[5])
)lua");
  return script;
}

const Script& list_script() {
  static const Script script = make(R"lua(
local now = now_ms(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local keys = given_keys(members)
if not keys then return -1 end
local out = {}
for _, id in ipairs(members) do
  local json = redis.call('GET', keys[id])
  if json then
    out[#out + 1] = id
    out[#out + 1] = json
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
index_done(KEYS[1], now)
return out
)lua");
  return script;
}

const Script& revoke_script() {
  static const Script script = make(R"lua(
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local keys = given_keys(members)
if not keys then return -1 end
local deleted = 0
for _, id in ipairs(members) do
  local json = redis.call('GET', keys[id])
  if json then
    local owner = owner_of(json)
    if not owner or owner == ARGV[1] then deleted = deleted + redis.call('DEL', keys[id]) end
  end
end
redis.call('DEL', KEYS[1])
return deleted
)lua");
  return script;
}

// The two steps of a write on a Redis Cluster, where a session and its user's index hash to
// different slots (see split_writes.hpp). Each script touches one key.

const Script& index_add_script() {
  static const Script script = make(R"lua(
local added = redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])
index_done(KEYS[1], now_ms(ARGV[3]))
return added
)lua");
  return script;
}

const Script& index_prune_script() {
  static const Script script = make(R"lua(
index_done(KEYS[1], now_ms(ARGV[1]))
return 1
)lua");
  return script;
}

const Script& create_session_script() {
  static const Script script = make(R"lua(
return create_session()
)lua");
  return script;
}

const Script& save_session_script() {
  static const Script script = make(R"lua(
return save_session()
)lua");
  return script;
}

const Script& touch_session_script() {
  static const Script script = make(R"lua(
return touch_session()
)lua");
  return script;
}

const Script& revoke_session_script() {
  static const Script script = make(R"lua(
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
local owner = owner_of(json)
if owner and owner ~= ARGV[1] then return -1 end
redis.call('DEL', KEYS[1])
return 1
)lua");
  return script;
}

}  // namespace asyncredis::session_detail
