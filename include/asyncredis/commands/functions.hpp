// FunctionCommands: Redis functions (FUNCTION LOAD, FCALL, FCALL_RO), Redis 7's successor of
// scripts: a library is loaded once and its functions are called by name.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/command_base.hpp"

namespace asyncredis {

/// FUNCTION LOAD and FCALL: Redis functions (7.0+). Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted).
template <class Base>
class FunctionCommands : public Base {
 public:
  using Base::Base;

  /// FUNCTION LOAD of a library's source ("#!lua name=mylib\n..."): the library's name.
  /// Loading a library that exists without `replace`, or code that does not compile, is
  /// errc::server_error with Redis's message.
  template <class Token = typename Base::default_token_type>
  auto function_load(std::string_view code, bool replace, Token&& token = {}) const {
    return this->template start<std::string>(
        this->make_request("FUNCTION", "LOAD", detail::flag_arg(replace, "REPLACE"), code),
        std::forward<Token>(token));
  }
  /// FCALL / FCALL_RO: calls `function` with `keys` and `args` (any arguments: a string, a
  /// number, a range of them) and converts its result to T, like eval(). An unknown function
  /// or a script error is errc::server_error; FCALL_RO of a function without the no-writes
  /// flag too.
  template <class T = Reply, Arg Keys, Arg Args, class Token = typename Base::default_token_type>
  auto fcall(std::string_view function, const Keys& keys, const Args& args,
             Token&& token = {}) const {
    return this->template start<T>(
        this->make_request("FCALL", function, ToArgs<Keys>::count(keys), keys, args),
        std::forward<Token>(token));
  }
  /// FCALL_RO: as fcall(), read-only (the function must have the no-writes flag).
  template <class T = Reply, Arg Keys, Arg Args, class Token = typename Base::default_token_type>
  auto fcall_ro(std::string_view function, const Keys& keys, const Args& args,
                Token&& token = {}) const {
    return this->template start<T>(
        this->make_request("FCALL_RO", function, ToArgs<Keys>::count(keys), keys, args),
        std::forward<Token>(token));
  }
};

}  // namespace asyncredis
