// Splits "arguments, then maybe a completion token" (command<T>(), cached()'s calls): the one
// place that knows how the trailing token is taken off.
#pragma once

#include <cstddef>
#include <tuple>
#include <utility>

namespace asyncredis::detail {

// Calls f(token, args...): with `LastIsToken` the last of `xs` is the token and the others are
// the arguments; otherwise every one of `xs` is an argument and `default_token` is the token.
template <bool LastIsToken, class F, class Default, class... Xs>
decltype(auto) call_with_token(F&& f, Default&& default_token, Xs&&... xs) {
  if constexpr (LastIsToken) {
    static_assert(sizeof...(Xs) > 0, "a trailing token needs something to trail");
    auto all = std::forward_as_tuple(std::forward<Xs>(xs)...);
    constexpr std::size_t n = sizeof...(Xs) - 1;
    return [&]<std::size_t... I>(std::index_sequence<I...>)->decltype(auto) {
      return std::forward<F>(f)(std::get<n>(std::move(all)), std::get<I>(std::move(all))...);
    }
    (std::make_index_sequence<n>{});
  } else {
    return std::forward<F>(f)(std::forward<Default>(default_token), std::forward<Xs>(xs)...);
  }
}

}  // namespace asyncredis::detail
