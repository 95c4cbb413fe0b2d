// The bodies of Commands' templates that are too long to sit in the class (commands.hpp
// includes this at its end).
#pragma once

#include <string_view>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

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

template <class T>
std::optional<T> JsonConvert<T>::operator()(Reply&& reply) const {
  if (reply.is_nil()) return std::nullopt;
  if (!reply.is_string()) std::move(reply).template as<std::string>();  // throws the right error
  try {
    return nlohmann::json::parse(reply.str()).template get<T>();
  } catch (const nlohmann::json::exception& e) {
    throw_decode_error(key, e.what());
  }
}

}  // namespace detail

template <class T, class... ArgsAndToken>
auto Commands::command(ArgsAndToken&&... args_and_token) const {
  if constexpr (detail::ends_with_token<ArgsAndToken...>()) {
    auto all = std::forward_as_tuple(std::forward<ArgsAndToken>(args_and_token)...);
    constexpr std::size_t n = sizeof...(ArgsAndToken) - 1;
    static_assert(n > 0, "a command needs at least its name");
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      detail::Request request = make_request(std::get<I>(all)...);
      request.check_commands = true;
      return start<T>(std::move(request), std::get<n>(std::move(all)));
    }
    (std::make_index_sequence<n>{});
  } else {
    static_assert(sizeof...(ArgsAndToken) > 0, "a command needs at least its name");
    detail::Request request = make_request(args_and_token...);
    request.check_commands = true;
    return start<T>(std::move(request), asio::deferred);
  }
}

template <Arg Value>
void Commands::encode_set(std::string& out, std::string_view key, const Value& value,
                          const SetOptions& options) {
  if (options.keep_ttl && options.ttl.count() != 0) {
    throw Error(errc::invalid_argument, "SET: keep_ttl cannot be combined with a ttl");
  }
  if (options.ttl.count() < 0) {
    throw Error(errc::invalid_argument, "SET: ttl must not be negative, got " +
                                            std::to_string(options.ttl.count()) + " ms");
  }
  std::size_t count = 3;
  const bool whole_seconds = options.ttl.count() % 1000 == 0;
  if (options.ttl.count() != 0) count += 2;
  if (options.condition != SetOptions::Condition::always) count += 1;
  if (options.keep_ttl) count += 1;
  detail::append_array_header(out, count - 3 + 2 + ToArgs<Value>::count(value));
  detail::append_bulk(out, std::string_view("SET"));
  detail::append_bulk(out, key);
  ToArgs<Value>::append(out, value);
  if (options.ttl.count() != 0) {
    detail::append_bulk(out, std::string_view(whole_seconds ? "EX" : "PX"));
    detail::append_bulk(out, static_cast<std::int64_t>(whole_seconds ? options.ttl.count() / 1000
                                                                     : options.ttl.count()));
  }
  if (options.condition == SetOptions::Condition::if_not_exists) {
    detail::append_bulk(out, std::string_view("NX"));
  } else if (options.condition == SetOptions::Condition::if_exists) {
    detail::append_bulk(out, std::string_view("XX"));
  }
  if (options.keep_ttl) detail::append_bulk(out, std::string_view("KEEPTTL"));
}

}  // namespace asyncredis
