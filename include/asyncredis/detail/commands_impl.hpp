// The body of BasicCommands::command(), too long to sit in the class (commands.hpp includes
// this at its end).
#pragma once

#include <tuple>
#include <utility>

#include "asyncredis/commands.hpp"

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
  if constexpr (detail::ends_with_token<ArgsAndToken...>()) {
    auto all = std::forward_as_tuple(std::forward<ArgsAndToken>(args_and_token)...);
    constexpr std::size_t n = sizeof...(ArgsAndToken) - 1;
    static_assert(n > 0, "a command needs at least its name");
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      detail::Request request = this->make_request(std::get<I>(all)...);
      request.check_commands = true;
      return this->template start<T>(std::move(request), std::get<n>(std::move(all)));
    }
    (std::make_index_sequence<n>{});
  } else {
    static_assert(sizeof...(ArgsAndToken) > 0, "a command needs at least its name");
    detail::Request request = this->make_request(args_and_token...);
    request.check_commands = true;
    return this->template start<T>(std::move(request), DefaultToken{});
  }
}

}  // namespace asyncredis
