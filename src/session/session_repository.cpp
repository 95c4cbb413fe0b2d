// RedisSessionRepository: the operations. Each write but remove() (a GETDEL, then a ZREM) is
// one of session_scripts' Lua scripts; reads are a plain GET (get, touch) or the list script
// over the members read from the index. On a Redis Cluster the writes and the list are done
// in single-key steps instead (split_writes.hpp).
#include "asyncredis/session/session_repository.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/error.hpp"
#include "session/session_codec.hpp"
#include "session/session_scripts.hpp"
#include "session/split_writes.hpp"
#include "session/text.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using std::chrono::system_clock;

struct RedisSessionRepository::State {
  Commands commands;
  SessionOptions options;
  // On a Redis Cluster a session and its user's index are in different slots: each write is
  // single-key steps (split_writes.hpp) instead of one script. Set from the client's settings,
  // or on the first script a cluster client refuses with errc::cross_slot (a Commands view
  // does not say what it is over; the refusal comes before anything is sent).
  mutable std::atomic<bool> split{false};

  // `script` over `keys` and `args`, or `split_write` (the same write in steps) on a cluster.
  template <std::size_t N>
  asio::awaitable<long long> write(
      const Script& script,
      asio::awaitable<long long> (*split_write)(const Commands&, const session_detail::SessionKeys&,
                                                const std::array<std::string, N>&),
      const session_detail::SessionKeys& keys, const std::array<std::string, N>& args) const {
    if (!split.load(std::memory_order_relaxed)) {
      try {
        co_return co_await commands.eval<long long>(script, keys, args, use_awaitable);
      } catch (const Error& e) {
        if (e.code() != make_error_code(errc::cross_slot)) throw;
      }
      split.store(true, std::memory_order_relaxed);
    }
    co_return co_await split_write(commands, keys, args);
  }

  std::string key_of(std::string_view id) const { return options.key_prefix + std::string(id); }
  std::string index_key_of(const Uuid& user_id) const {
    return options.user_index_prefix + user_id.to_string();
  }
};

namespace {

using namespace session_detail;

constexpr int kCreateAttempts = 8;
constexpr int kTouchAttempts = 16;
// list_for_user() and revoke_all(): read the index, then run the script over what was read.
constexpr int kIndexAttempts = 16;

// Session times are whole microseconds (Python's precision), so a session compares equal to
// itself after a round trip through its stored text.
system_clock::time_point now_us() {
  return std::chrono::floor<std::chrono::microseconds>(system_clock::now());
}

std::string unix_ms(system_clock::time_point t) {
  return std::to_string(
      std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

void check_ttl(std::chrono::milliseconds ttl, std::string_view operation) {
  if (ttl.count() <= 0) {
    throw Error(errc::invalid_argument, std::string(operation) + ": ttl must be positive, got " +
                                            std::to_string(ttl.count()) + " ms");
  }
}

void validate(const SessionOptions& options) {
  auto fail = [](const std::string& what) {
    throw Error(errc::invalid_setting, "SessionOptions: " + what);
  };
  if (options.key_prefix.empty()) fail("key_prefix must not be empty");
  if (options.user_index_prefix.empty()) fail("user_index_prefix must not be empty");
  if (options.max_lifetime.count() <= 0) fail("max_lifetime must be positive");
  if (!options.id_generator) fail("id_generator must be set");
  // An index key is user_index_prefix + <uuid>, a session key key_prefix + <id>. They can only
  // coincide when one prefix extends the other by text that could be part of the other's
  // suffix; ids never contain ':' and UUIDs only hex digits and '-'.
  const std::string& index = options.user_index_prefix;
  const std::string& key = options.key_prefix;
  if (index == key) fail("user_index_prefix must differ from key_prefix");
  // index = key + rest: an index key is a session key when rest + <uuid> is a valid id.
  if (index.starts_with(key) && is_valid_session_id(index.substr(key.size()) + "0")) {
    fail("user_index_prefix " + printable(index) + " extends key_prefix " + printable(key) +
         " by text a session id could hold; add a ':' (as in \"session:user:\")");
  }
  if (key.starts_with(index)) {
    const std::string rest = key.substr(index.size());
    if (rest.find_first_not_of("0123456789abcdef-") == std::string::npos) {
      fail("key_prefix " + printable(key) + " extends user_index_prefix " + printable(index) +
           " by text a UUID could start with");
    }
  }
}

// The user a stored session names, as the scripts' owner_of() reads it: user_id lowercased;
// nothing for text that is not a JSON object with a string user_id.
std::optional<std::string> owner_of(std::string_view stored) {
  const nlohmann::json json = nlohmann::json::parse(stored, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto it = json.find("user_id");
  if (it == json.end() || !it->is_string()) return std::nullopt;
  std::string owner = it->get<std::string>();
  for (char& c : owner) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return owner;
}

// What the index scripts are given (see session_scripts.hpp): the index and the session key
// of each member, and the members' ids.
struct IndexCall {
  std::vector<std::string> keys;
  std::vector<std::string> args;
};

[[noreturn]] void index_changed(const std::string& index, std::string_view operation) {
  throw Error(errc::timeout, std::string(operation) + ": the index at " + printable(index) +
                                 " changed under it " + std::to_string(kIndexAttempts) +
                                 " times in a row");
}

std::string not_valid_id_message(std::string_view id) {
  return "session id " + printable(id) +
         " is not valid: 1-256 characters out of A-Z a-z 0-9 - _ . ~";
}

// The stored session, checked against the key it was read from.
Session read_session(const OrderedJson& json, std::string_view id, std::string_view key) {
  Session session = session_from_json(json, key);
  if (session.id != id) {
    throw_decode_error(key, "field \"id\" " + printable(session.id) + " does not match the key");
  }
  return session;
}

// The index's members now, for a script that touches their session keys: it may only touch
// keys it is given (a Redis Cluster routes by them), and it checks that the index still holds
// no other member.
asio::awaitable<IndexCall> read_index(const Commands& commands, const std::string& key_prefix,
                                      const std::string& index) {
  IndexCall call;
  call.args =
      co_await commands.command<std::vector<std::string>>("ZRANGE", index, 0, -1, use_awaitable);
  call.keys.reserve(call.args.size() + 1);
  call.keys.push_back(index);
  for (const std::string& id : call.args) call.keys.push_back(key_prefix + id);
  co_return call;
}

// list_script() over the index as read just before: id, json, id, json, ...
asio::awaitable<std::vector<std::string>> list_in_one_script(const Commands& commands,
                                                             const std::string& key_prefix,
                                                             const std::string& index) {
  for (int attempt = 0; attempt < kIndexAttempts; ++attempt) {
    IndexCall call = co_await read_index(commands, key_prefix, index);
    call.args.insert(call.args.begin(), unix_ms(system_clock::now()));
    Reply reply = co_await commands.eval<Reply>(list_script(), call.keys, call.args, use_awaitable);
    if (!reply.is_integer() || reply.integer() != kScriptConflict) {
      co_return std::move(reply).as<std::vector<std::string>>();
    }
  }
  index_changed(index, "list_for_user");
}

// revoke_script() over the index as read just before: how many sessions it deleted.
asio::awaitable<std::size_t> revoke_in_one_script(const Commands& commands,
                                                  const std::string& key_prefix,
                                                  const std::string& index,
                                                  const std::string& user_id) {
  for (int attempt = 0; attempt < kIndexAttempts; ++attempt) {
    IndexCall call = co_await read_index(commands, key_prefix, index);
    call.args.insert(call.args.begin(), user_id);
    const auto deleted =
        co_await commands.eval<long long>(revoke_script(), call.keys, call.args, use_awaitable);
    if (deleted != kScriptConflict) co_return static_cast<std::size_t>(deleted);
  }
  index_changed(index, "revoke_all");
}

}  // namespace

RedisSessionRepository::RedisSessionRepository(RedisClient& client, SessionOptions options)
    : RedisSessionRepository(static_cast<Commands&>(client), client.get_executor(),
                             std::move(options)) {
  state_->split.store(client.settings().is_cluster(), std::memory_order_relaxed);
}

RedisSessionRepository::RedisSessionRepository(Commands commands,
                                               boost::asio::any_io_executor executor,
                                               SessionOptions options)
    : executor_(std::move(executor)) {
  validate(options);
  auto state = std::make_shared<State>();
  state->commands = std::move(commands);
  state->options = std::move(options);
  state_ = std::move(state);
}

std::string RedisSessionRepository::key_of(std::string_view id) const {
  return state_->key_of(id);
}

std::string RedisSessionRepository::index_key_of(const Uuid& user_id) const {
  return state_->index_key_of(user_id);
}

const SessionOptions& RedisSessionRepository::options() const noexcept {
  return state_->options;
}

asio::awaitable<Session> RedisSessionRepository::create_impl(StatePtr state, Uuid user_id,
                                                             std::chrono::milliseconds ttl,
                                                             nlohmann::json data) {
  check_ttl(ttl, "create");
  if (data.is_null()) data = nlohmann::json::object();
  Session session;
  session.user_id = user_id;
  session.created_at = now_us();
  session.expires_at = session.created_at + std::min(ttl, state->options.max_lifetime);
  session.data = std::move(data);
  const std::array<std::string, 2> keys_template{"", state->index_key_of(user_id)};

  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    session.id = state->options.id_generator();
    if (!is_valid_session_id(session.id)) {
      throw Error(errc::invalid_setting, "SessionOptions::id_generator returned an invalid id: " +
                                             not_valid_id_message(session.id));
    }
    std::array<std::string, 2> keys = keys_template;
    keys[0] = state->key_of(session.id);
    const std::array<std::string, 4> args{encode_session(session), unix_ms(session.expires_at),
                                          session.id, unix_ms(system_clock::now())};
    const long long outcome = co_await state->write(create_script(), &split_create, keys, args);
    if (outcome == kScriptDone) co_return session;
    if (outcome == kScriptExpired) {
      throw Error(errc::invalid_argument,
                  "create: the session would expire (at " + format_iso8601(session.expires_at) +
                      ") before Redis stores it: the ttl is shorter than the difference between "
                      "this machine's clock and Redis's");
    }
  }
  throw Error(errc::invalid_setting,
              "create: SessionOptions::id_generator returned " + std::to_string(kCreateAttempts) +
                  " ids in a row that were already in use; it is not random enough");
}

asio::awaitable<SaveResult> RedisSessionRepository::save_impl(StatePtr state, Session session) {
  if (!is_valid_session_id(session.id)) {
    throw Error(errc::invalid_argument, "save: " + not_valid_id_message(session.id));
  }
  const std::string user = session.user_id.to_string();
  const std::array<std::string, 2> keys{state->key_of(session.id),
                                        state->index_key_of(session.user_id)};
  const std::array<std::string, 5> args{encode_session(session), unix_ms(session.expires_at),
                                        session.id, unix_ms(system_clock::now()), user};
  const long long outcome = co_await state->write(save_script(), &split_save, keys, args);
  switch (outcome) {
    case kScriptDone:
      co_return SaveResult::stored;
    case kScriptExpired:
      co_return SaveResult::expired;
    case kScriptMissing:
      co_return SaveResult::missing;
    case kScriptConflict:
      throw Error(errc::invalid_argument, "save: session " + printable(session.id) +
                                              " is stored for another user than " + user +
                                              "; a session's user_id cannot change");
    default:
      throw Error(errc::unexpected_type,
                  "save: unexpected script reply " + std::to_string(outcome));
  }
}

asio::awaitable<std::optional<Session>> RedisSessionRepository::get_impl(StatePtr state,
                                                                         std::string id) {
  if (!is_valid_session_id(id)) co_return std::nullopt;
  const std::string key = state->key_of(id);
  const std::optional<std::string> text = co_await state->commands.get(key, use_awaitable);
  if (!text) co_return std::nullopt;
  Session session = read_session(parse_stored(*text, key), id, key);
  // Redis drops the key at expires_at by its own clock; a session is over by ours too.
  if (session.expires_at <= system_clock::now()) co_return std::nullopt;
  co_return session;
}

asio::awaitable<bool> RedisSessionRepository::remove_impl(StatePtr state, std::string id) {
  if (!is_valid_session_id(id)) co_return false;
  // The delete is one command, so a save that comes after it finds nothing (see the guarantee
  // in the header); the index entry goes next, with the owner the deleted text names.
  const std::optional<std::string> old =
      co_await state->commands.getdel(state->key_of(id), use_awaitable);
  if (!old) co_return false;
  if (const std::optional<std::string> owner = owner_of(*old)) {
    try {
      co_await state->commands.command<long long>("ZREM", state->options.user_index_prefix + *owner,
                                                  id, use_awaitable);
    } catch (const Error&) {
      // The session is gone, which is what remove() promises: an entry left dangling is
      // skipped by revoke_all() and pruned by list_for_user() and by the index's expiry.
    }
  }
  co_return true;
}

asio::awaitable<std::optional<Session>> RedisSessionRepository::touch_impl(
    StatePtr state, std::string id, std::chrono::milliseconds ttl) {
  check_ttl(ttl, "touch");
  if (!is_valid_session_id(id)) co_return std::nullopt;
  const std::string key = state->key_of(id);

  for (int attempt = 0; attempt < kTouchAttempts; ++attempt) {
    const std::optional<std::string> text = co_await state->commands.get(key, use_awaitable);
    if (!text) co_return std::nullopt;
    OrderedJson json = parse_stored(*text, key);
    Session session = read_session(json, id, key);
    const system_clock::time_point now = now_us();
    if (session.expires_at <= now) co_return std::nullopt;

    const system_clock::time_point cap = session.created_at + state->options.max_lifetime;
    session.expires_at = std::min(now + ttl, cap);
    const bool lifetime_over = session.expires_at <= now;
    json["expires_at"] = format_iso8601(session.expires_at);

    const std::array<std::string, 2> keys{key, state->index_key_of(session.user_id)};
    const std::array<std::string, 6> args{*text, json.dump(),  unix_ms(session.expires_at),
                                          id,    unix_ms(now), lifetime_over ? "1" : "0"};
    const long long outcome = co_await state->write(touch_script(), &split_touch, keys, args);
    if (outcome == kScriptDone) co_return session;
    if (outcome != kScriptConflict) co_return std::nullopt;  // gone, expired or just removed
  }
  throw Error(errc::timeout, "touch: session at " + printable(key) + " changed under it " +
                                 std::to_string(kTouchAttempts) + " times in a row");
}

asio::awaitable<std::vector<Session>> RedisSessionRepository::list_impl(StatePtr state,
                                                                        Uuid user_id) {
  const std::string index = state->index_key_of(user_id);
  const std::string now_ms = unix_ms(system_clock::now());
  std::vector<std::string> flat;
  bool split = state->split.load(std::memory_order_relaxed);
  if (!split) {
    try {
      flat = co_await list_in_one_script(state->commands, state->options.key_prefix, index);
    } catch (const Error& e) {
      if (e.code() != make_error_code(errc::cross_slot)) throw;
      split = true;
      state->split.store(true, std::memory_order_relaxed);
    }
  }
  if (split) flat = co_await split_list(state->commands, index, state->options.key_prefix, now_ms);
  if (flat.size() % 2 != 0) {
    throw Error(errc::unexpected_type, "list_for_user: the index read gave " +
                                           std::to_string(flat.size()) + " elements, not pairs");
  }
  std::vector<Session> sessions;
  sessions.reserve(flat.size() / 2);
  const system_clock::time_point now = system_clock::now();
  for (std::size_t i = 0; i < flat.size(); i += 2) {
    const std::string key = state->key_of(flat[i]);
    Session session = read_session(parse_stored(flat[i + 1], key), flat[i], key);
    if (session.user_id != user_id || session.expires_at <= now) continue;
    sessions.push_back(std::move(session));
  }
  // An index entry's score may be later than its session's expiry on a cluster (it is only
  // ever raised there): the order comes from the sessions themselves.
  std::stable_sort(sessions.begin(), sessions.end(),
                   [](const Session& a, const Session& b) { return a.expires_at < b.expires_at; });
  co_return sessions;
}

asio::awaitable<std::size_t> RedisSessionRepository::revoke_all_impl(StatePtr state, Uuid user_id) {
  const std::string index = state->index_key_of(user_id);
  const std::string user = user_id.to_string();
  if (!state->split.load(std::memory_order_relaxed)) {
    try {
      co_return co_await revoke_in_one_script(state->commands, state->options.key_prefix, index,
                                              user);
    } catch (const Error& e) {
      if (e.code() != make_error_code(errc::cross_slot)) throw;
    }
    state->split.store(true, std::memory_order_relaxed);
  }
  co_return static_cast<std::size_t>(
      co_await split_revoke(state->commands, index, state->options.key_prefix, user));
}

}  // namespace asyncredis
