// RedisSessionRepository: sessions in Redis, readable and writable by the Python seed's
// RedisSessionRepository too, with a per-user index to list and revoke a user's sessions.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/session/session.hpp"
#include "asyncredis/session/uuid.hpp"

namespace asyncredis {

/// Where RedisSessionRepository keeps sessions and how long they may live; checked by its
/// constructor.
struct SessionOptions {
  /// Session keys are key_prefix + id: the Python seed's "session:".
  std::string key_prefix = "session:";
  /// A user's index is user_index_prefix + the user's UUID.
  std::string user_index_prefix = "session:user:";
  /// The longest a session may live from its created_at: create() caps the ttl with it, and
  /// touch() never extends expires_at past created_at + max_lifetime.
  std::chrono::milliseconds max_lifetime = std::chrono::days(30);
  /// Where create() gets ids; generate_session_id() by default. Each id must satisfy
  /// is_valid_session_id(). A service sharing sessions with one that uses another id scheme
  /// can plug it in here.
  std::function<std::string()> id_generator = generate_session_id;
};

/// What save() did.
enum class SaveResult {
  stored,   ///< written; the key and its index entry expire at expires_at
  expired,  ///< expires_at had passed: the session was removed instead of stored
  missing,  ///< there was no session to update (removed, revoked, expired, never created)
};

/// Sessions in Redis, readable and writable by the Python seed's RedisSessionRepository too,
/// with a per-user index to list and revoke a user's sessions.
///
/// Layout (defaults):
///
///     session:<id>          the session's JSON (encode_session()), expiring at expires_at (PXAT)
///     session:user:<uuid>   sorted set of the user's session ids scored by expires_at in unix
///                           milliseconds; expires with its longest-lived member
///
/// Every write but remove() is one Lua script, so Redis applies it atomically with respect to
/// every other command: the session key and the index never disagree about a write that
/// happened (remove() may leave an index entry behind for a moment, see there).
///
/// What save() guarantees against remove() (and revoke_all(), and expiry): save() only ever
/// replaces a session key that exists at the moment Redis runs it. Once Redis has applied a
/// remove, no save, however delayed, retried or concurrent, brings the session back; it
/// reports SaveResult::missing. When a save and a remove race, Redis runs one first: save then
/// remove, or remove then a refused save; the session ends removed either way. Concurrent saves
/// of one session are last-writer-wins (the whole value is replaced); touch() is a
/// compare-and-set and never overwrites another writer's change, but a save racing a touch may
/// replace the touched expiry with the expiry of the saver's copy.
///
/// A session counts as expired once its expires_at has passed by the client's clock or by
/// Redis's: get() and list_for_user() never return it, save() removes it, the index drops it.
///
/// Sessions written by a service that does not maintain the index (the Python seed) are read by
/// get() and touch() but listed and revoked only once a save() or touch() here has indexed them.
/// Every key a script touches is passed in KEYS: list_for_user() and revoke_all() read the index
/// first and give its members' session keys (the script refuses to run, and they read again,
/// if the index changed in between). remove() is a GETDEL, then a ZREM from the index of the
/// user the deleted session names: between the two the index holds an entry whose session is
/// gone, which every reader of the index skips (and list_for_user() prunes). Redis >= 6.2
/// (PXAT, GETDEL, ZADD GT).
///
/// On a Redis Cluster (a RedisClient made with cluster settings) a session and its user's index
/// hash to different slots (the Python wire format has no hash tags), so no script can touch
/// both: each write is two single-key steps, in an order that leaves a safe state whatever
/// happens between them (a crash, a lost connection, a racing writer):
/// - the index entry is written first and removed last, so a live session is always in its
///   user's index and revoke_all() always finds it; what can be left behind is an entry whose
///   session is gone, which readers skip and which leaves the index at its score;
/// - an entry's score is only ever raised there, so it never leaves the index before its
///   session expires (list_for_user() orders by the sessions' own expires_at);
/// - the session step makes the same check as the script above (save() and touch() replace
///   only a session that exists), so the guarantee against remove() and revoke_all() holds: a
///   revoked session never comes back;
/// - revoke_all() deletes the sessions first, then their entries, and is not atomic: a session
///   created while it runs may survive it (indexed, so the next revoke_all() finds it).
/// Made from a cluster client's Commands view, it learns that it is on a cluster from the first
/// script the client refuses (errc::cross_slot, before anything is sent) and goes on in steps.
///
/// Every operation is an Asio asynchronous operation: the last argument is a completion token
/// (deferred when omitted), the completion signature void(std::exception_ptr, R) with R
/// written beside each operation. Failures arrive as asyncredis::Error: the client's errors
/// (errc::timeout, errc::connection_lost, errc::server_error, ...) and those listed per
/// operation. Operations may be started from any thread; each runs as a coroutine on the
/// repository's executor. The repository is a cheap handle (copies share their state); an
/// operation keeps that state alive, but the client must outlive it.
///
/// Ids that is_valid_session_id() refuses (a forged cookie, "user:<uuid>", "") name no
/// session: get() and touch() answer std::nullopt and remove() false without asking Redis.
class RedisSessionRepository {
 public:
  /// Uses `client` (which selects its database; the Python services keep sessions in
  /// settings.session_db) and runs operations on its executor. Throws Error(errc::
  /// invalid_setting) for an empty prefix, a non-positive max_lifetime, no id_generator, or
  /// prefixes that would let a session key and an index key be the same key.
  explicit RedisSessionRepository(RedisClient& client, SessionOptions options = {});
  /// The same over any command surface (a RedisClient, a Commands view with its own timeout),
  /// running operations on `executor`.
  RedisSessionRepository(Commands commands, boost::asio::any_io_executor executor,
                         SessionOptions options = {});

  /// Creates and stores a new session of `user_id` expiring after min(ttl, max_lifetime), with
  /// created_at now (whole microseconds). Never overwrites: the write is SET NX, and an id
  /// already in use is replaced by a fresh one. R = Session. Errors: errc::invalid_argument
  /// for ttl <= 0, data that is not a JSON object, or a session already expired by Redis's
  /// clock when it arrives (a ttl shorter than the clocks' difference); errc::invalid_setting
  /// when the id_generator returns an invalid id, or 8 ids in a row that are already in use.
  template <class Token = boost::asio::deferred_t>
  auto create(const Uuid& user_id, std::chrono::milliseconds ttl, nlohmann::json data,
              Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, create_impl(state_, user_id, ttl, std::move(data)),
                                 std::forward<Token>(token));
  }
  /// create(user_id, ttl, {}, token): a session with empty data.
  template <class Token = boost::asio::deferred_t>
  requires(!std::constructible_from<nlohmann::json, Token>) auto create(
      const Uuid& user_id, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return create(user_id, ttl, nlohmann::json::object(), std::forward<Token>(token));
  }

  /// Replaces a stored session with `session` (data and expires_at as given; created_at is
  /// not checked against max_lifetime), re-indexed under its expires_at. If expires_at has
  /// passed, removes the session instead (SaveResult::expired). If the session is not stored
  /// (removed, revoked, expired), writes nothing (SaveResult::missing): see the guarantee at
  /// the class comment. R = SaveResult. Errors: errc::invalid_argument for an invalid id,
  /// data that is not an object, and a user_id different from the stored session's (a
  /// session never changes hands; stored JSON that is not readable is simply replaced).
  template <class Token = boost::asio::deferred_t>
  auto save(Session session, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, save_impl(state_, std::move(session)),
                                 std::forward<Token>(token));
  }

  /// The session stored under `id`, or std::nullopt when there is none or it has expired.
  /// R = std::optional<Session>. Errors: errc::decode_error naming the key when the stored
  /// value is not a session (see decode_session()) or its "id" field is not `id`.
  template <class Token = boost::asio::deferred_t>
  auto get(std::string_view id, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, get_impl(state_, std::string(id)),
                                 std::forward<Token>(token));
  }

  /// Deletes the session, then its index entry. R = bool: whether a session was stored. A
  /// stored value that is not readable JSON is deleted all the same (its index entry, if any,
  /// goes when list_for_user() or expiry finds it), and so is an index entry whose removal
  /// failed after the session was deleted (that failure is not reported: the session is gone).
  template <class Token = boost::asio::deferred_t>
  auto remove(std::string_view id, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, remove_impl(state_, std::string(id)),
                                 std::forward<Token>(token));
  }

  /// Sliding expiry: sets expires_at to min(now + ttl, created_at + max_lifetime), leaving every
  /// other stored field (extra fields of other services included) as it was. When that time
  /// has already come (the lifetime is used up) the session is removed. R =
  /// std::optional<Session>: the session as now stored, or std::nullopt when there was none,
  /// it had expired, or it has just been removed. A compare-and-set: a concurrent change is
  /// re-read and the touch applied to it. Errors: errc::invalid_argument for ttl <= 0;
  /// errc::decode_error naming the key for a stored value that is not a session;
  /// errc::timeout when the session changed under it 16 times in a row.
  template <class Token = boost::asio::deferred_t>
  auto touch(std::string_view id, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, touch_impl(state_, std::string(id), ttl),
                                 std::forward<Token>(token));
  }

  /// The user's live sessions, soonest to expire first. Drops index entries that have expired
  /// or (not on a cluster, see the class comment) whose session key is gone, and skips a
  /// session now owned by another user.
  /// R = std::vector<Session>. Errors: errc::decode_error naming the key of the first stored
  /// value that is not a session; errc::timeout when the index changed between its read and
  /// the script 16 times in a row.
  template <class Token = boost::asio::deferred_t>
  auto list_for_user(const Uuid& user_id, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, list_impl(state_, user_id), std::forward<Token>(token));
  }

  /// Deletes every indexed session of the user (unreadable ones included; a session the index
  /// names but another user owns is left alone) and the index, atomically (on a cluster in
  /// steps, sessions first, see the class comment). R = std::size_t:
  /// how many sessions were deleted. Errors: errc::timeout as list_for_user().
  template <class Token = boost::asio::deferred_t>
  auto revoke_all(const Uuid& user_id, Token&& token = {}) const {
    return boost::asio::co_spawn(executor_, revoke_all_impl(state_, user_id),
                                 std::forward<Token>(token));
  }

  /// The Redis key of session `id` (key_prefix + id; the id is not checked).
  std::string key_of(std::string_view id) const;
  /// The Redis key of a user's index (user_index_prefix + the canonical UUID).
  std::string index_key_of(const Uuid& user_id) const;

  /// The options it was made with.
  const SessionOptions& options() const noexcept;
  /// The executor the operations run on.
  const boost::asio::any_io_executor& get_executor() const noexcept { return executor_; }

 private:
  struct State;
  using StatePtr = std::shared_ptr<const State>;

  static boost::asio::awaitable<Session> create_impl(StatePtr state, Uuid user_id,
                                                     std::chrono::milliseconds ttl,
                                                     nlohmann::json data);
  static boost::asio::awaitable<SaveResult> save_impl(StatePtr state, Session session);
  static boost::asio::awaitable<std::optional<Session>> get_impl(StatePtr state, std::string id);
  static boost::asio::awaitable<bool> remove_impl(StatePtr state, std::string id);
  static boost::asio::awaitable<std::optional<Session>> touch_impl(StatePtr state, std::string id,
                                                                   std::chrono::milliseconds ttl);
  static boost::asio::awaitable<std::vector<Session>> list_impl(StatePtr state, Uuid user_id);
  static boost::asio::awaitable<std::size_t> revoke_all_impl(StatePtr state, Uuid user_id);

  boost::asio::any_io_executor executor_;
  StatePtr state_;
};

}  // namespace asyncredis
