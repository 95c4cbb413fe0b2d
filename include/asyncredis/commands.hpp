// Commands: one typed method per Redis command. The typed methods live in one mixin per data
// type (asyncredis/commands/*.hpp), chained on detail::CommandBase; this file adds the
// generic path (command<T>, execute, transaction, eval, scan) and the views (with()).
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

#include "asyncredis/call_options.hpp"
#include "asyncredis/command.hpp"
#include "asyncredis/commands/functions.hpp"
#include "asyncredis/commands/hashes.hpp"
#include "asyncredis/commands/hyperloglog.hpp"
#include "asyncredis/commands/json.hpp"
#include "asyncredis/commands/keys.hpp"
#include "asyncredis/commands/lists.hpp"
#include "asyncredis/commands/server.hpp"
#include "asyncredis/commands/sets.hpp"
#include "asyncredis/commands/sorted_sets.hpp"
#include "asyncredis/commands/streams.hpp"
#include "asyncredis/commands/strings.hpp"
#include "asyncredis/detail/command_base.hpp"
#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"
#include "asyncredis/script.hpp"

namespace asyncredis {

namespace asio = boost::asio;

namespace detail {
// Every typed command, one mixin per data type, in a line (each mixin derives from the one
// inside it).
template <class DefaultToken>
using TypedCommands = ServerCommands<
    FunctionCommands<JsonCommands<HyperLogLogCommands<StreamCommands<SortedSetCommands<SetCommands<
        ListCommands<HashCommands<KeyCommands<StringCommands<CommandBase<DefaultToken>>>>>>>>>>>>;
}  // namespace detail

/// The command surface shared by RedisClient (pooled, multiplexed connections) and Lease (one
/// exclusive connection). A cheap value: copies share the connection(s). `DefaultToken` is
/// the completion token of a call that passes none (Commands: asio::deferred).
template <class DefaultToken>
class BasicCommands : public detail::TypedCommands<DefaultToken> {
  using Base = detail::TypedCommands<DefaultToken>;

 public:
  BasicCommands() = default;
  /// The same connection(s) and CallOptions as `other`, with this view's default token.
  template <class Other>
  explicit BasicCommands(const BasicCommands<Other>& other)
      : Base(static_cast<const detail::CommandBase<Other>&>(other)) {}

  /// A view of the same connection(s) whose operations use `options` (timeout, retry).
  BasicCommands with(CallOptions options) const {
    BasicCommands copy = *this;
    copy.options_ = options;
    return copy;
  }
  /// Shorthand for with({.timeout = timeout, ...}).
  BasicCommands with_timeout(std::chrono::milliseconds timeout) const {
    return with(this->options_with_timeout(timeout));
  }

  /// The executor that runs the handlers without an executor of their own (the client's);
  /// a default-constructed Commands has none.
  boost::asio::any_io_executor get_executor() const {
    return this->sink_ != nullptr ? this->sink_->executor() : boost::asio::any_io_executor();
  }

  // ---- the generic path ------------------------------------------------------------------

  /// Sends one command made of `args` (name first) and converts its reply to T (Reply: as it
  /// came, error replies included). The last argument may be a completion token; without one
  /// the call uses DefaultToken.
  ///   auto n = co_await client.command<long long>("INCRBY", "counter", 5, use_awaitable);
  /// Commands that would break the connection they run on fail with errc::invalid_argument
  /// naming the API to use instead: on a RedisClient blocking commands (BLPOP, XREAD BLOCK,
  /// WAIT, ...: use a Lease), WATCH and MULTI/EXEC (use transaction()); on a RedisClient and a
  /// Lease SUBSCRIBE and its kin (use Subscriber), MONITOR, SELECT (a RedisClient per
  /// database), CLIENT REPLY, RESET, QUIT, AUTH and HELLO. The same holds for execute() and
  /// transaction(), where a MULTI closed by its EXEC in the same pipeline is fine.
  template <class T = Reply, class... ArgsAndToken>
  auto command(ArgsAndToken&&... args_and_token) const;

  /// Sends every command of `pipeline` in one write; one reply each, in order. Error replies
  /// are elements of the result (Reply::is_error()), not a failure of the whole pipeline.
  template <class Token = DefaultToken>
  auto execute(const Pipeline& pipeline, Token&& token = {}) const {
    detail::Request request = this->make_request();
    request.check_commands = true;
    request.payload = pipeline.payload();
    request.reply_count = static_cast<std::uint32_t>(pipeline.size());
    request.deliver = detail::Deliver::array;
    return this->template start<std::vector<Reply>>(std::move(request), std::forward<Token>(token));
  }

  /// MULTI, the pipeline's commands, EXEC, in one write: applied atomically. The result is the
  /// EXEC reply (one reply per command), or std::nullopt when a WATCHed key changed (only on
  /// a Lease, where WATCH is possible). A command refused while queueing fails the whole
  /// transaction with errc::server_error (EXECABORT).
  template <class Token = DefaultToken>
  auto transaction(const Pipeline& pipeline, Token&& token = {}) const {
    detail::Request request = this->make_request();
    request.check_commands = true;
    encode_command(request.payload, "MULTI");
    request.payload += pipeline.payload();
    encode_command(request.payload, "EXEC");
    request.reply_count = static_cast<std::uint32_t>(pipeline.size() + 2);
    request.deliver = detail::Deliver::last;
    return this->template start<std::optional<std::vector<Reply>>>(std::move(request),
                                                                   std::forward<Token>(token));
  }

  /// Runs `script` with EVALSHA, falling back to EVAL (which loads it) only on NOSCRIPT.
  /// `keys` and `args` are any arguments (a string, a number, a range of them).
  template <class T = Reply, Arg Keys, Arg Args, class Token = DefaultToken>
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
        token, this->sink_, this->make_request(), std::move(call));
  }

  /// A cursor over the keys matching options.match (SCAN; never KEYS). See ScanIterator.
  /// Throws Error(errc::not_connected) on a view without a connection.
  ScanIterator scan(ScanOptions options = {}) const {
    if (this->sink_ == nullptr) detail::throw_no_connection();
    return ScanIterator(this->sink_, options);
  }

 protected:
  /// A view sending through `sink` (RedisClient's pool or a Lease's connection).
  explicit BasicCommands(detail::RequestSink* sink) : Base(sink) {}
};

/// The asynchronous command surface: a call without a token returns an asio::deferred
/// operation.
using Commands = BasicCommands<asio::deferred_t>;

}  // namespace asyncredis

#include "asyncredis/detail/commands_impl.hpp"
