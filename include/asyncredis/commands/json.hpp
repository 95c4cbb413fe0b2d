// JsonCommands: values stored as JSON text (nlohmann::json, or any type with to_json and
// from_json), over GET and SET.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "asyncredis/commands/strings.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

namespace detail {
[[noreturn]] void throw_decode_error(std::string_view key, std::string_view what);

// Converts a reply holding JSON text to std::optional<T>; nil is std::nullopt, anything that
// does not parse as T is errc::decode_error naming the key.
template <class T>
struct JsonConvert {
  std::string key;
  std::optional<T> operator()(Reply&& reply) const {
    if (reply.is_nil()) return std::nullopt;
    if (!reply.is_string()) std::move(reply).template as<std::string>();  // throws the right error
    try {
      return nlohmann::json::parse(reply.str()).template get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw_decode_error(key, e.what());
    }
  }
};
}  // namespace detail

/// get_json and set_json: values stored as JSON text. Needs StringCommands below it (set_json
/// is a SET). Every method is an Asio operation: its last argument is a completion token
/// (Base's default when omitted), and a key holding another type fails with
/// errc::server_error (WRONGTYPE).
template <class Base>
class JsonCommands : public Base {
 public:
  using Base::Base;

  /// GET decoded as JSON into T (nlohmann::json, or any type with from_json): std::nullopt for
  /// a missing key; a value that is not JSON or not a T is errc::decode_error naming the key.
  template <class T = nlohmann::json, class Token = typename Base::default_token_type>
  auto get_json(std::string_view key, Token&& token = {}) const {
    return this->template start<std::optional<T>>(this->make_request("GET", key),
                                                  std::forward<Token>(token),
                                                  detail::JsonConvert<T>{std::string(key)});
  }
  /// SET of value's JSON text (nlohmann::json, or any type with to_json); as set().
  template <class T, class Token = typename Base::default_token_type>
  auto set_json(std::string_view key, const T& value, SetOptions options = {},
                Token&& token = {}) const {
    return this->set(key, nlohmann::json(value).dump(), options, std::forward<Token>(token));
  }
};

}  // namespace asyncredis
