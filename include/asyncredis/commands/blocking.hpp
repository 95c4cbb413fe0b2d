// BlockingCommands: the list commands that wait on the server for an element. They stall the
// connection they run on, so only a Lease (one exclusive connection) has them; on a
// RedisClient, command<T>("BLPOP", ...) fails with errc::invalid_argument.
//
// `timeout` is the server's wait (0: forever). The request's own client-side timeout is the
// view's (lease.with_timeout(...).blpop(...)) when one is set, else `timeout` plus
// detail::kBlockingReplyGrace; a timeout of 0 with no with_timeout() is bounded by the
// settings' command_timeout.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "asyncredis/call_options.hpp"
#include "asyncredis/command.hpp"
#include "asyncredis/commands/lists.hpp"
#include "asyncredis/detail/command_base.hpp"
#include "asyncredis/detail/request.hpp"

namespace asyncredis {

/// BLPOP, BRPOP and BLMOVE, the blocking list commands of Lease and SyncLease (a
/// RedisClient has none: they would stall a shared connection). Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class BlockingCommands : public Base {
 public:
  using Base::Base;

  /// Views as Base's with() and with_timeout() that keep the blocking commands: a BLPOP that
  /// waits forever (timeout 0) needs a client-side timeout longer than command_timeout.
  BlockingCommands with(CallOptions options) const {
    BlockingCommands copy = *this;
    copy.options_ = options;
    return copy;
  }
  /// Shorthand for with({.timeout = timeout}), keeping the blocking commands.
  BlockingCommands with_timeout(std::chrono::milliseconds timeout) const {
    return with(this->options_with_timeout(timeout));
  }

  /// BLPOP / BRPOP over one key or a range of keys (the first non-empty one wins): the
  /// (key, element) popped, or std::nullopt when `timeout` passed first.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto blpop(const Keys& keys, std::chrono::milliseconds timeout, Token&& token = {}) const {
    return this->template start<std::optional<std::pair<std::string, std::string>>>(
        blocking_request(timeout, "BLPOP", keys, seconds_of(timeout)), std::forward<Token>(token));
  }
  /// BRPOP: as blpop(), from the tail.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto brpop(const Keys& keys, std::chrono::milliseconds timeout, Token&& token = {}) const {
    return this->template start<std::optional<std::pair<std::string, std::string>>>(
        blocking_request(timeout, "BRPOP", keys, seconds_of(timeout)), std::forward<Token>(token));
  }
  /// BLMOVE: the element moved from `from`'s end `from_end` to `to`'s end `to_end`, or
  /// std::nullopt when `timeout` passed first.
  template <class Token = typename Base::default_token_type>
  auto blmove(std::string_view from, std::string_view to, ListEnd from_end, ListEnd to_end,
              std::chrono::milliseconds timeout, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(
        blocking_request(timeout, "BLMOVE", from, to, detail::name_of(from_end),
                         detail::name_of(to_end), seconds_of(timeout)),
        std::forward<Token>(token));
  }

 private:
  // Redis takes the timeout in (fractional) seconds.
  static double seconds_of(std::chrono::milliseconds timeout) {
    return static_cast<double>(timeout.count()) / 1000.0;
  }
  template <Arg... Args>
  detail::Request blocking_request(std::chrono::milliseconds timeout, const Args&... args) const {
    detail::Request request = this->make_request(args...);
    detail::extend_timeout_for_block(request, timeout);
    return request;
  }
};

}  // namespace asyncredis
