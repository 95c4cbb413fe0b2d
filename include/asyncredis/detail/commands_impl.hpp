// The body of BasicCommands::command(), too long to sit in the class (commands.hpp includes
// this at its end).
#pragma once

#include <tuple>
#include <utility>

#include "asyncredis/commands.hpp"
#include "asyncredis/detail/split_token.hpp"

namespace asyncredis {

namespace detail {

template <class... Xs>
using last_t = std::tuple_element_t<sizeof...(Xs) - 1, std::tuple<Xs...>>;

template <class... Xs>
constexpr bool ends_with_token() {
  if constexpr (sizeof...(Xs) == 0) {
    return false;
  } else {
    return !Arg<std::remove_cvref_t<last_t<Xs...>>>;
  }
}

}  // namespace detail

template <class DefaultToken>
template <class T, class... ArgsAndToken>
auto BasicCommands<DefaultToken>::command(ArgsAndToken&&... args_and_token) const {
  return detail::call_with_token<detail::ends_with_token<ArgsAndToken...>()>(
      [this](auto&& token, const auto&... args) {
        static_assert(sizeof...(args) > 0, "a command needs at least its name");
        detail::Request request = this->make_request(args...);
        request.check_commands = true;
        return this->template start<T>(std::move(request), std::forward<decltype(token)>(token));
      },
      DefaultToken{}, std::forward<ArgsAndToken>(args_and_token)...);
}

}  // namespace asyncredis
