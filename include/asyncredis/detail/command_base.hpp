// CommandBase: the root of the command mixins (asyncredis/commands/*.hpp). It holds where
// requests go and the per-call options, and starts a request as an Asio operation; every
// typed command is one call of start<T>(make_request(...), token).
#pragma once

#include <chrono>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/async_result.hpp>

#include "asyncredis/call_options.hpp"
#include "asyncredis/command.hpp"
#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/detail/request.hpp"

namespace asyncredis::detail {

// Throws Error(errc::not_connected) for an operation on a view that has no connection.
[[noreturn]] void throw_no_connection();

// An optional word argument (REPLACE, MKSTREAM, ...): `word` when `present`, else nothing.
inline std::vector<std::string_view> flag_arg(bool present, std::string_view word) {
  return present ? std::vector<std::string_view>{word} : std::vector<std::string_view>{};
}

// How long after the server's own timeout a blocking command's reply (nil) may still take.
inline constexpr std::chrono::milliseconds kBlockingReplyGrace{2000};

// A command that waits `block` on the server (0: forever) must not hit the client-side
// timeout first: without a view timeout (with_timeout()), it becomes block + the grace.
inline void extend_timeout_for_block(Request& request, std::chrono::milliseconds block) {
  if (request.timeout.count() == 0 && block.count() > 0) {
    request.timeout = block + kBlockingReplyGrace;
  }
}

// `DefaultToken` is the completion token of a method called without one (asio::deferred for
// Commands; a blocking token for a synchronous facade).
template <class DefaultToken>
class CommandBase {
 public:
  using default_token_type = DefaultToken;

  CommandBase() = default;

 protected:
  explicit CommandBase(RequestSink* sink) : sink_(sink) {}
  // The same sink and options under another default token.
  template <class Other>
  explicit CommandBase(const CommandBase<Other>& other)
      : sink_(other.sink_), options_(other.options_) {}

  // Starts `request` with a handler converting its reply with `convert` to T.
  template <class T, class Token, class Convert = DefaultConvert<T>>
  auto start(Request&& request, Token&& token, Convert convert = {}) const {
    return boost::asio::async_initiate<Token, signature_t<T>>(
        [](auto handler, RequestSink* sink, Request request, Convert convert) {
          using H = std::decay_t<decltype(handler)>;
          sink->submit(std::move(request),
                       ConvertingHandler<T, H, Convert>(std::move(handler), std::move(convert)));
        },
        token, sink_, std::move(request), std::move(convert));
  }

  // This view's options with another timeout (with_timeout()).
  CallOptions options_with_timeout(std::chrono::milliseconds timeout) const {
    CallOptions options = options_;
    options.timeout = timeout;
    return options;
  }

  // A request carrying this view's options, with `args` (name first) encoded when given.
  // Every operation starts here, so a view without a connection (a default-constructed or
  // released Lease) fails at once instead of reaching a null sink.
  template <Arg... Args>
  Request make_request(const Args&... args) const {
    if (sink_ == nullptr) throw_no_connection();
    Request request;
    request.timeout = options_.timeout;
    request.retry_on_reconnect = options_.retry_on_reconnect;
    if constexpr (sizeof...(Args) > 0) encode_command(request.payload, args...);
    return request;
  }

  RequestSink* sink_ = nullptr;
  CallOptions options_;

 private:
  template <class Other>
  friend class CommandBase;
};

}  // namespace asyncredis::detail
