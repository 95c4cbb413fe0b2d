// The Lua scripts behind RedisSessionRepository's writes. Each runs atomically in Redis, which
// is what keeps a session key and its user's index in step, and makes "save only replaces an
// existing session" a check and a write with nothing in between.
#pragma once

#include "asyncredis/script.hpp"

namespace asyncredis::session_detail {

// Replies shared by the scripts.
inline constexpr long long kScriptMissing = 0;
inline constexpr long long kScriptDone = 1;
inline constexpr long long kScriptExpired = 2;
inline constexpr long long kScriptConflict =
    -1;  // create: id taken; save: other user; touch: changed

// KEYS: session key, index key. ARGV: json, expires_ms, id, client_now_ms.
// kScriptDone, kScriptConflict when the key exists, kScriptExpired when expires_ms has passed.
const Script& create_script();

// KEYS: session key, index key. ARGV: json, expires_ms, id, client_now_ms, user_id.
// kScriptDone, kScriptMissing (nothing written), kScriptExpired (removed), kScriptConflict
// when the stored session names another user_id (nothing written).
const Script& save_script();

// KEYS: session key, index key. ARGV: expected json, new json, expires_ms, id, client_now_ms,
// "1" to remove instead. kScriptDone, kScriptMissing, kScriptExpired (removed), or
// kScriptConflict when the stored value is no longer the expected one (nothing written).
const Script& touch_script();

// The two index scripts take the members the client read from the index (ZRANGE) with their
// session keys: KEYS: index key, then the session key of each; ARGV: as below, then the ids
// in the same order. kScriptConflict, with nothing done, when the index holds a member that
// was not given: read it again.

// ARGV: client_now_ms, ids. Prunes expired and dangling entries; returns id, json, id,
// json, ... of the rest, soonest expiry first.
const Script& list_script();

// ARGV: user_id, ids. Deletes the indexed sessions not owned by another user, then the index;
// returns how many sessions it deleted.
const Script& revoke_script();

// The same writes in two steps, for a Redis Cluster (split_writes.hpp says in which order).

// KEYS: index key. ARGV: expires_ms, id, client_now_ms. Adds the id, or raises its score to
// expires_ms (never lowers it: an entry outlives its session), then prunes like the scripts
// above. Returns 1 when the id was not in the index before, else 0.
const Script& index_add_script();

// KEYS: index key. ARGV: client_now_ms. Prunes like the scripts above; returns 1.
const Script& index_prune_script();

// KEYS: session key; ARGV and replies as create_script(), save_script(), touch_script(): the
// same checks and the same write to the session key, the index left alone.
const Script& create_session_script();
const Script& save_session_script();
const Script& touch_session_script();

// KEYS: session key. ARGV: user_id. Deletes the session unless another user owns it: 1 when it
// deleted it, kScriptMissing, or kScriptConflict (another user's; left alone).
const Script& revoke_session_script();

}  // namespace asyncredis::session_detail
