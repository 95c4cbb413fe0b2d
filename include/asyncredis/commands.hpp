// Commands: one typed method per Redis command, all funnelled through command<T>().
//
// Every method is an Asio asynchronous operation: its last argument is a completion token
// (a callback, asio::use_future, asio::use_awaitable, asio::deferred; deferred when omitted).
// The completion signature is void(std::exception_ptr, R) with R the method's result type
// (void(std::exception_ptr) for R = void). With use_awaitable and use_future a failure is
// thrown as asyncredis::Error: errc::server_error carrying Redis's message for an error reply,
// errc::timeout, errc::cancelled, errc::connection_lost, errc::not_connected, ... .
// Arguments are copied (encoded) before the method returns. Methods may be called from any
// thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"
#include "asyncredis/script.hpp"

namespace asyncredis {

namespace asio = boost::asio;

// Per-call options; see Commands::with().
struct CallOptions {
  // 0: the settings' command_timeout.
  std::chrono::milliseconds timeout{0};
  // Send again after a reconnect if the connection broke after the request was written.
  // Only for idempotent commands (GET, SET without INCR-like effects, ...).
  bool retry_on_reconnect = false;
};

// Options of SET.
struct SetOptions {
  enum class Condition { always, if_not_exists /* NX */, if_exists /* XX */ };
  // Expiry; 0: none. Whole seconds are sent as EX, anything else as PX.
  std::chrono::milliseconds ttl{0};
  Condition condition = Condition::always;
  bool keep_ttl = false;  // KEEPTTL; cannot be combined with ttl
};

namespace detail {
// Converts a reply holding JSON text to std::optional<T>; nil is std::nullopt, anything that
// does not parse as T is errc::decode_error naming the key.
template <class T>
struct JsonConvert {
  std::string key;
  std::optional<T> operator()(Reply&& reply) const;
};
[[noreturn]] void throw_decode_error(std::string_view key, std::string_view what);
std::chrono::system_clock::time_point time_of(Reply&& reply);
}  // namespace detail

// The command surface shared by RedisClient (pooled, multiplexed connections) and Lease (one
// exclusive connection). A cheap value: copies share the connection(s).
class Commands {
 public:
  Commands() = default;

  // A view of the same connection(s) whose operations use `options` (timeout, retry).
  Commands with(CallOptions options) const {
    Commands copy = *this;
    copy.options_ = options;
    return copy;
  }
  // Shorthand for with({.timeout = timeout, ...}).
  Commands with_timeout(std::chrono::milliseconds timeout) const {
    CallOptions options = options_;
    options.timeout = timeout;
    return with(options);
  }

  // The executor that runs the handlers without an executor of their own (the client's);
  // a default-constructed Commands has none.
  boost::asio::any_io_executor get_executor() const {
    return sink_ != nullptr ? sink_->executor() : boost::asio::any_io_executor();
  }

  // ---- the generic path ------------------------------------------------------------------

  // Sends one command made of `args` (name first) and converts its reply to T (Reply: as it
  // came, error replies included). The last argument may be a completion token.
  //   auto n = co_await client.command<long long>("INCRBY", "counter", 5, use_awaitable);
  // Commands that would break the connection they run on fail with errc::invalid_argument
  // naming the API to use instead: on a RedisClient blocking commands (BLPOP, XREAD BLOCK,
  // WAIT, ...: use a Lease), WATCH and MULTI/EXEC (use transaction()); on a RedisClient and a
  // Lease SUBSCRIBE and its kin (use Subscriber), MONITOR, SELECT (a RedisClient per
  // database), CLIENT REPLY, RESET, QUIT, AUTH and HELLO. The same holds for execute() and
  // transaction(), where a MULTI closed by its EXEC in the same pipeline is fine.
  template <class T = Reply, class... ArgsAndToken>
  auto command(ArgsAndToken&&... args_and_token) const;

  // Sends every command of `pipeline` in one write; one reply each, in order. Error replies
  // are elements of the result (Reply::is_error()), not a failure of the whole pipeline.
  template <class Token = asio::deferred_t>
  auto execute(const Pipeline& pipeline, Token&& token = {}) const {
    detail::Request request = make_request();
    request.check_commands = true;
    request.payload = pipeline.payload();
    request.reply_count = static_cast<std::uint32_t>(pipeline.size());
    request.deliver = detail::Deliver::array;
    return start<std::vector<Reply>>(std::move(request), std::forward<Token>(token));
  }

  // MULTI, the pipeline's commands, EXEC, in one write: applied atomically. The result is the
  // EXEC reply (one reply per command), or std::nullopt when a WATCHed key changed (only on
  // a Lease, where WATCH is possible). A command refused while queueing fails the whole
  // transaction with errc::server_error (EXECABORT).
  template <class Token = asio::deferred_t>
  auto transaction(const Pipeline& pipeline, Token&& token = {}) const {
    detail::Request request = make_request();
    request.check_commands = true;
    encode_command(request.payload, "MULTI");
    request.payload += pipeline.payload();
    encode_command(request.payload, "EXEC");
    request.reply_count = static_cast<std::uint32_t>(pipeline.size() + 2);
    request.deliver = detail::Deliver::last;
    return start<std::optional<std::vector<Reply>>>(std::move(request), std::forward<Token>(token));
  }

  // Runs `script` with EVALSHA, falling back to EVAL (which loads it) only on NOSCRIPT.
  // `keys` and `args` are any arguments (a string, a number, a range of them).
  template <class T = Reply, Arg Keys, Arg Args, class Token = asio::deferred_t>
  auto eval(const Script& script, const Keys& keys, const Args& args, Token&& token = {}) const {
    detail::ScriptCall call{script, {}, 0};
    call.numkeys = ToArgs<Keys>::count(keys);
    call.arg_count = 3 + call.numkeys + ToArgs<Args>::count(args);
    ToArgs<std::size_t>::append(call.tail, call.numkeys);
    ToArgs<Keys>::append(call.tail, keys);
    ToArgs<Args>::append(call.tail, args);
    return asio::async_initiate<Token, detail::signature_t<T>>(
        [](auto handler, detail::RequestSink* sink, detail::Request base, detail::ScriptCall call) {
          using H = std::decay_t<decltype(handler)>;
          detail::submit_script(
              *sink, std::move(base), std::move(call),
              detail::ConvertingHandler<T, H, detail::DefaultConvert<T>>(std::move(handler), {}));
        },
        token, sink_, make_request(), std::move(call));
  }

  // A cursor over the keys matching options.match (SCAN; never KEYS). See ScanIterator.
  ScanIterator scan(ScanOptions options = {}) const { return ScanIterator(sink_, options); }

  // ---- strings ---------------------------------------------------------------------------

  // GET: the value, or std::nullopt when the key does not exist. An empty string is a value.
  template <class Token = asio::deferred_t>
  auto get(std::string_view key, Token&& token = {}) const {
    return start<std::optional<std::string>>(make_request("GET", key), std::forward<Token>(token));
  }

  // GET of a command encoded already (the cache's lookups: its memo holds each call's
  // encoded GET, which the handler keeps alive). Not for general use.
  template <class Token = asio::deferred_t>
  auto get(detail::EncodedGet command, Token&& token = {}) const {
    detail::Request request = make_request();
    request.borrowed_payload = command.borrowed;
    request.payload = std::move(command.owned);
    return start<std::optional<std::string>>(std::move(request), std::forward<Token>(token));
  }

  // SET: true when the value was stored, false when the NX/XX condition did not hold.
  // Throws Error(errc::invalid_argument) at once for ttl combined with keep_ttl.
  template <Arg Value, class Token = asio::deferred_t>
  auto set(std::string_view key, const Value& value, SetOptions options, Token&& token = {}) const {
    detail::Request request = make_request();
    encode_set(request.payload, key, value, options);
    return start<bool>(std::move(request), std::forward<Token>(token));
  }
  template <Arg Value, class Token = asio::deferred_t>
  requires(!std::same_as<std::decay_t<Token>, SetOptions>) auto set(std::string_view key,
                                                                    const Value& value,
                                                                    Token&& token = {}) const {
    return set(key, value, SetOptions{}, std::forward<Token>(token));
  }

  // GETDEL: the value (and the key is gone), or std::nullopt.
  template <class Token = asio::deferred_t>
  auto getdel(std::string_view key, Token&& token = {}) const {
    return start<std::optional<std::string>>(make_request("GETDEL", key),
                                             std::forward<Token>(token));
  }

  // MGET: one optional per key, in order.
  template <Arg Keys, class Token = asio::deferred_t>
  auto mget(const Keys& keys, Token&& token = {}) const {
    return start<std::vector<std::optional<std::string>>>(make_request("MGET", keys),
                                                          std::forward<Token>(token));
  }

  // MSET from a range of (key, value) pairs, such as a std::map.
  template <Arg Pairs, class Token = asio::deferred_t>
  auto mset(const Pairs& pairs, Token&& token = {}) const {
    return start<void>(make_request("MSET", pairs), std::forward<Token>(token));
  }

  // INCR / INCRBY: the value after the increment.
  template <class Token = asio::deferred_t>
  auto incr(std::string_view key, Token&& token = {}) const {
    return start<std::int64_t>(make_request("INCR", key), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto incrby(std::string_view key, std::int64_t by, Token&& token = {}) const {
    return start<std::int64_t>(make_request("INCRBY", key, by), std::forward<Token>(token));
  }

  // ---- keys ------------------------------------------------------------------------------

  // DEL / UNLINK / EXISTS over one key or a range of keys: how many keys were affected.
  template <Arg Keys, class Token = asio::deferred_t>
  auto del(const Keys& keys, Token&& token = {}) const {
    return start<std::int64_t>(make_request("DEL", keys), std::forward<Token>(token));
  }
  template <Arg Keys, class Token = asio::deferred_t>
  auto unlink(const Keys& keys, Token&& token = {}) const {
    return start<std::int64_t>(make_request("UNLINK", keys), std::forward<Token>(token));
  }
  template <Arg Keys, class Token = asio::deferred_t>
  auto exists(const Keys& keys, Token&& token = {}) const {
    return start<std::int64_t>(make_request("EXISTS", keys), std::forward<Token>(token));
  }

  // EXPIRE / PEXPIRE / PEXPIREAT: true when the key exists and got the expiry.
  template <class Token = asio::deferred_t>
  auto expire(std::string_view key, std::chrono::seconds ttl, Token&& token = {}) const {
    return start<bool>(make_request("EXPIRE", key, ttl.count()), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto pexpire(std::string_view key, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return start<bool>(make_request("PEXPIRE", key, ttl.count()), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto pexpireat(std::string_view key, std::chrono::system_clock::time_point at,
                 Token&& token = {}) const {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
    return start<bool>(make_request("PEXPIREAT", key, ms.count()), std::forward<Token>(token));
  }

  // TTL / PTTL: the remaining time to live; -1 when the key has no expiry, -2 when the key
  // does not exist (as Redis answers).
  template <class Token = asio::deferred_t>
  auto ttl(std::string_view key, Token&& token = {}) const {
    return start<std::int64_t>(make_request("TTL", key), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto pttl(std::string_view key, Token&& token = {}) const {
    return start<std::int64_t>(make_request("PTTL", key), std::forward<Token>(token));
  }

  // ---- hashes ----------------------------------------------------------------------------

  template <class Token = asio::deferred_t>
  auto hget(std::string_view key, std::string_view field, Token&& token = {}) const {
    return start<std::optional<std::string>>(make_request("HGET", key, field),
                                             std::forward<Token>(token));
  }
  // HSET of one field: 1 when the field is new, 0 when it was updated.
  template <Arg Value, class Token = asio::deferred_t>
  auto hset(std::string_view key, std::string_view field, const Value& value,
            Token&& token = {}) const {
    return start<std::int64_t>(make_request("HSET", key, field, value), std::forward<Token>(token));
  }
  // HSET of a range of (field, value) pairs: how many fields are new.
  template <Arg Pairs, class Token = asio::deferred_t>
  auto hset(std::string_view key, const Pairs& pairs, Token&& token = {}) const {
    return start<std::int64_t>(make_request("HSET", key, pairs), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto hgetall(std::string_view key, Token&& token = {}) const {
    return start<std::unordered_map<std::string, std::string>>(make_request("HGETALL", key),
                                                               std::forward<Token>(token));
  }
  // HDEL of one field or a range: how many were removed.
  template <Arg Fields, class Token = asio::deferred_t>
  auto hdel(std::string_view key, const Fields& fields, Token&& token = {}) const {
    return start<std::int64_t>(make_request("HDEL", key, fields), std::forward<Token>(token));
  }

  // ---- sets ------------------------------------------------------------------------------

  template <Arg Members, class Token = asio::deferred_t>
  auto sadd(std::string_view key, const Members& members, Token&& token = {}) const {
    return start<std::int64_t>(make_request("SADD", key, members), std::forward<Token>(token));
  }
  template <Arg Members, class Token = asio::deferred_t>
  auto srem(std::string_view key, const Members& members, Token&& token = {}) const {
    return start<std::int64_t>(make_request("SREM", key, members), std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto smembers(std::string_view key, Token&& token = {}) const {
    return start<std::vector<std::string>>(make_request("SMEMBERS", key),
                                           std::forward<Token>(token));
  }

  // ---- sorted sets -----------------------------------------------------------------------

  // ZADD of one member: 1 when it is new.
  template <class Token = asio::deferred_t>
  auto zadd(std::string_view key, double score, std::string_view member, Token&& token = {}) const {
    return start<std::int64_t>(make_request("ZADD", key, score, member),
                               std::forward<Token>(token));
  }
  // ZADD of a range of (score, member) pairs: how many are new.
  template <Arg Pairs, class Token = asio::deferred_t>
  auto zadd(std::string_view key, const Pairs& score_member_pairs, Token&& token = {}) const {
    return start<std::int64_t>(make_request("ZADD", key, score_member_pairs),
                               std::forward<Token>(token));
  }
  template <Arg Members, class Token = asio::deferred_t>
  auto zrem(std::string_view key, const Members& members, Token&& token = {}) const {
    return start<std::int64_t>(make_request("ZREM", key, members), std::forward<Token>(token));
  }
  // ZRANGEBYSCORE min max: bounds are numbers or Redis's forms ("-inf", "(1.5").
  template <Arg Min, Arg Max, class Token = asio::deferred_t>
  auto zrangebyscore(std::string_view key, const Min& min, const Max& max,
                     Token&& token = {}) const {
    return start<std::vector<std::string>>(make_request("ZRANGEBYSCORE", key, min, max),
                                           std::forward<Token>(token));
  }
  template <Arg Min, Arg Max, class Token = asio::deferred_t>
  auto zremrangebyscore(std::string_view key, const Min& min, const Max& max,
                        Token&& token = {}) const {
    return start<std::int64_t>(make_request("ZREMRANGEBYSCORE", key, min, max),
                               std::forward<Token>(token));
  }

  // ---- server ----------------------------------------------------------------------------

  // PUBLISH: how many subscribers received the message.
  template <class Token = asio::deferred_t>
  auto publish(std::string_view channel, std::string_view message, Token&& token = {}) const {
    return start<std::int64_t>(make_request("PUBLISH", channel, message),
                               std::forward<Token>(token));
  }
  // PUBSUB CHANNELS: the channels that have at least one subscriber; with a pattern, those
  // matching it.
  template <class Token = asio::deferred_t>
  requires(!StringLike<Token>) auto pubsub_channels(Token&& token = {}) const {
    return start<std::vector<std::string>>(make_request("PUBSUB", "CHANNELS"),
                                           std::forward<Token>(token));
  }
  template <class Token = asio::deferred_t>
  auto pubsub_channels(std::string_view pattern, Token&& token = {}) const {
    return start<std::vector<std::string>>(make_request("PUBSUB", "CHANNELS", pattern),
                                           std::forward<Token>(token));
  }
  // PUBSUB NUMSUB: how many subscribers each channel (one, or a range of them) has.
  template <Arg Channels, class Token = asio::deferred_t>
  auto pubsub_numsub(const Channels& channels, Token&& token = {}) const {
    return start<std::unordered_map<std::string, std::int64_t>>(
        make_request("PUBSUB", "NUMSUB", channels), std::forward<Token>(token));
  }
  // PING: "PONG".
  template <class Token = asio::deferred_t>
  auto ping(Token&& token = {}) const {
    return start<std::string>(make_request("PING"), std::forward<Token>(token));
  }
  // TIME: the server's clock, to the microsecond.
  template <class Token = asio::deferred_t>
  auto time(Token&& token = {}) const {
    return start<std::chrono::system_clock::time_point>(
        make_request("TIME"), std::forward<Token>(token),
        [](Reply&& reply) { return detail::time_of(std::move(reply)); });
  }

  // ---- JSON ------------------------------------------------------------------------------

  // GET decoded as JSON into T (nlohmann::json, or any type with from_json): std::nullopt for
  // a missing key; a value that is not JSON or not a T is errc::decode_error naming the key.
  template <class T = nlohmann::json, class Token = asio::deferred_t>
  auto get_json(std::string_view key, Token&& token = {}) const {
    return start<std::optional<T>>(make_request("GET", key), std::forward<Token>(token),
                                   detail::JsonConvert<T>{std::string(key)});
  }
  // SET of value's JSON text (nlohmann::json, or any type with to_json).
  template <class T, class Token = asio::deferred_t>
  auto set_json(std::string_view key, const T& value, SetOptions options = {},
                Token&& token = {}) const {
    return set(key, nlohmann::json(value).dump(), options, std::forward<Token>(token));
  }

 protected:
  explicit Commands(detail::RequestSink* sink) : sink_(sink) {}

  // Starts `request` with a handler converting its reply with `convert` to T.
  template <class T, class Token, class Convert = detail::DefaultConvert<T>>
  auto start(detail::Request&& request, Token&& token, Convert convert = {}) const {
    return asio::async_initiate<Token, detail::signature_t<T>>(
        [](auto handler, detail::RequestSink* sink, detail::Request request, Convert convert) {
          using H = std::decay_t<decltype(handler)>;
          sink->submit(std::move(request), detail::ConvertingHandler<T, H, Convert>(
                                               std::move(handler), std::move(convert)));
        },
        token, sink_, std::move(request), std::move(convert));
  }

  template <Arg... Args>
  detail::Request make_request(const Args&... args) const {
    detail::Request request;
    request.timeout = options_.timeout;
    request.retry_on_reconnect = options_.retry_on_reconnect;
    if constexpr (sizeof...(Args) > 0) encode_command(request.payload, args...);
    return request;
  }

  detail::RequestSink* sink_ = nullptr;
  CallOptions options_;

 private:
  template <Arg Value>
  static void encode_set(std::string& out, std::string_view key, const Value& value,
                         const SetOptions& options);
};

}  // namespace asyncredis

#include "asyncredis/detail/commands_impl.hpp"
