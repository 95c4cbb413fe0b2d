#include "session/split_writes.hpp"

#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/error.hpp"
#include "session/session_scripts.hpp"

namespace asyncredis::session_detail {

namespace asio = boost::asio;
using asio::use_awaitable;

namespace {

// The index step: 1 when the id was not in the index before.
asio::awaitable<long long> index_add(const Commands& commands, const std::string& index,
                                     const std::string& expires_ms, const std::string& id,
                                     const std::string& client_now_ms) {
  const std::array<std::string, 3> args{expires_ms, id, client_now_ms};
  co_return co_await commands.eval<long long>(index_add_script(), index, args, use_awaitable);
}

// Takes an entry whose session is gone (or was never written) out of the index. Failing to is
// harmless: the entry is skipped by every reader and leaves the index at its score.
asio::awaitable<void> unindex(const Commands& commands, const std::string& index,
                              const std::string& id) {
  try {
    co_await commands.zrem(index, id, use_awaitable);
  } catch (const Error&) {
  }
}

}  // namespace

asio::awaitable<long long> split_create(const Commands& commands, const SessionKeys& keys,
                                        const std::array<std::string, 4>& args) {
  const long long added = co_await index_add(commands, keys[1], args[1], args[2], args[3]);
  const long long outcome =
      co_await commands.eval<long long>(create_session_script(), keys[0], args, use_awaitable);
  // An id already in use may be the user's own indexed session: only an entry this call added
  // is taken back.
  if (outcome != kScriptDone && added == 1) co_await unindex(commands, keys[1], args[2]);
  co_return outcome;
}

asio::awaitable<long long> split_save(const Commands& commands, const SessionKeys& keys,
                                      const std::array<std::string, 5>& args) {
  co_await index_add(commands, keys[1], args[1], args[2], args[3]);
  const long long outcome =
      co_await commands.eval<long long>(save_session_script(), keys[0], args, use_awaitable);
  // Missing or expired: the session is gone. Conflict: it is another user's, so it does not
  // belong in this user's index.
  if (outcome != kScriptDone) co_await unindex(commands, keys[1], args[2]);
  co_return outcome;
}

asio::awaitable<long long> split_touch(const Commands& commands, const SessionKeys& keys,
                                       const std::array<std::string, 6>& args) {
  const bool removing = args[5] == "1";
  if (!removing) co_await index_add(commands, keys[1], args[2], args[3], args[4]);
  const long long outcome =
      co_await commands.eval<long long>(touch_session_script(), keys[0], args, use_awaitable);
  // A conflict means another writer changed the session, and its entry with it: leave it.
  if (outcome == kScriptMissing || outcome == kScriptExpired) {
    co_await unindex(commands, keys[1], args[3]);
  }
  co_return outcome;
}

asio::awaitable<std::vector<std::string>> split_list(const Commands& commands,
                                                     const std::string& index,
                                                     const std::string& key_prefix,
                                                     const std::string& client_now_ms) {
  // Entries whose score has passed are of expired sessions (a score is never below its
  // session's expiry). Dangling ones stay until theirs: a session being created has its entry
  // before its key.
  co_await commands.eval<long long>(index_prune_script(), index, client_now_ms, use_awaitable);
  const std::string after_now = "(" + client_now_ms;
  const std::vector<std::string> ids =
      co_await commands.zrangebyscore(index, after_now, "+inf", use_awaitable);
  std::vector<std::string> out;
  if (ids.empty()) co_return out;
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const std::string& id : ids) keys.push_back(key_prefix + id);
  // Split by slot and merged in order by the cluster client.
  std::vector<std::optional<std::string>> values = co_await commands.mget(keys, use_awaitable);
  for (std::size_t i = 0; i < ids.size() && i < values.size(); ++i) {
    if (!values[i]) continue;
    out.push_back(ids[i]);
    out.push_back(std::move(*values[i]));
  }
  co_return out;
}

asio::awaitable<long long> split_revoke(const Commands& commands, const std::string& index,
                                        const std::string& key_prefix, const std::string& user_id) {
  const std::vector<std::string> ids =
      co_await commands.command<std::vector<std::string>>("ZRANGE", index, 0, -1, use_awaitable);
  long long deleted = 0;
  std::vector<std::string> done;
  for (const std::string& id : ids) {
    const std::string key = key_prefix + id;
    const long long outcome =
        co_await commands.eval<long long>(revoke_session_script(), key, user_id, use_awaitable);
    if (outcome == kScriptDone) ++deleted;
    // A missing session may be one being created (its entry comes first): its entry stays
    // until its score passes.
    if (outcome != kScriptMissing) done.push_back(id);
  }
  if (!done.empty()) co_await commands.zrem(index, done, use_awaitable);
  co_return deleted;
}

}  // namespace asyncredis::session_detail
