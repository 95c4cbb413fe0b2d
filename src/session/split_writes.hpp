// RedisSessionRepository's writes on a Redis Cluster, where `session:<id>` and its user's index
// hash to different slots (the Python wire format has no hash tags), so no one script can touch
// both. Each write is two single-key steps in an order chosen so that a crash, a lost
// connection or a race between them leaves a safe state:
//
// - An index entry is written before its session and removed after it. A live session written
//   here is therefore always in its user's index, so revoke_all() finds it; what a crash can
//   leave is an entry without a session, which readers skip and which goes at its score.
// - An entry's score is only ever raised (ZADD GT), so an entry never leaves the index before
//   its session expires, even when two writers raise and lower the expiry at once.
// - The session step is the standalone script's own check and write on the session key alone:
//   save() and touch() still only replace a session that exists, so a revoked or removed
//   session never comes back.
// - revoke_all() deletes the sessions first, then their entries; a session created meanwhile
//   keeps its entry (only entries whose session it deleted, or found owned by another user,
//   are removed).
#pragma once

#include <array>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "asyncredis/commands.hpp"

namespace asyncredis::session_detail {

// The keys of one session write, as the standalone scripts take them: the session key, then its
// user's index.
using SessionKeys = std::array<std::string, 2>;

// create_script()'s write in two steps. args as create_script's ARGV; the same replies.
boost::asio::awaitable<long long> split_create(const Commands& commands, const SessionKeys& keys,
                                               const std::array<std::string, 4>& args);

// save_script()'s write in two steps. args as save_script's ARGV; the same replies.
boost::asio::awaitable<long long> split_save(const Commands& commands, const SessionKeys& keys,
                                             const std::array<std::string, 5>& args);

// touch_script()'s write in two steps. args as touch_script's ARGV; the same replies.
boost::asio::awaitable<long long> split_touch(const Commands& commands, const SessionKeys& keys,
                                              const std::array<std::string, 6>& args);

// list_script()'s answer (id, json, id, json, ...): the index members whose score has not
// passed client_now_ms and whose session key exists. Prunes the entries whose score has passed,
// not those whose session is missing (it may be one being created).
boost::asio::awaitable<std::vector<std::string>> split_list(const Commands& commands,
                                                            const std::string& index,
                                                            const std::string& key_prefix,
                                                            const std::string& client_now_ms);

// revoke_script()'s work in steps: each indexed session not owned by another user deleted,
// then the entries it deleted or found owned by another user. Returns how many it deleted.
boost::asio::awaitable<long long> split_revoke(const Commands& commands, const std::string& index,
                                               const std::string& key_prefix,
                                               const std::string& user_id);

}  // namespace asyncredis::session_detail
