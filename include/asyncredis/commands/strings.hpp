// StringCommands: GET, SET and the other commands on string values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {

/// Options of SET.
struct SetOptions {
  /// When SET stores the value.
  enum class Condition {
    always /**< no condition */,
    if_not_exists /**< NX */,
    if_exists /**< XX */
  };
  /// Expiry; 0: none. Whole seconds are sent as EX, anything else as PX.
  std::chrono::milliseconds ttl{0};
  Condition condition = Condition::always;  ///< NX / XX, if any
  bool keep_ttl = false;                    ///< KEEPTTL; cannot be combined with ttl
};

namespace detail {
// Appends SET key value with `options`; Error(errc::invalid_argument) for options Redis
// would refuse (ttl with keep_ttl, a negative ttl).
template <Arg Value>
void encode_set(std::string& out, std::string_view key, const Value& value,
                const SetOptions& options);
}  // namespace detail

/// GET, SET and the other commands on string values. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class StringCommands : public Base {
 public:
  using Base::Base;

  /// GET: the value, or std::nullopt when the key does not exist. An empty string is a value.
  /// A key holding another type: errc::server_error (WRONGTYPE).
  template <class Token = typename Base::default_token_type>
  auto get(std::string_view key, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("GET", key),
                                                            std::forward<Token>(token));
  }

  /// SET: true when the value was stored, false when the NX/XX condition did not hold.
  /// Throws Error(errc::invalid_argument) at once for ttl combined with keep_ttl.
  template <Arg Value, class Token = typename Base::default_token_type>
  auto set(std::string_view key, const Value& value, SetOptions options, Token&& token = {}) const {
    detail::Request request = this->make_request();
    detail::encode_set(request.payload, key, value, options);
    return this->template start<bool>(std::move(request), std::forward<Token>(token));
  }
  /// SET without options: always true.
  template <Arg Value, class Token = typename Base::default_token_type>
  requires(!std::same_as<std::decay_t<Token>, SetOptions>) auto set(std::string_view key,
                                                                    const Value& value,
                                                                    Token&& token = {}) const {
    return set(key, value, SetOptions{}, std::forward<Token>(token));
  }

  /// GETDEL: the value (and the key is gone), or std::nullopt.
  template <class Token = typename Base::default_token_type>
  auto getdel(std::string_view key, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("GETDEL", key),
                                                            std::forward<Token>(token));
  }

  /// MGET: one optional per key, in order (std::nullopt for a missing key or another type).
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto mget(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::vector<std::optional<std::string>>>(
        this->make_request("MGET", keys), std::forward<Token>(token));
  }

  /// MSET from a range of (key, value) pairs, such as a std::map.
  template <Arg Pairs, class Token = typename Base::default_token_type>
  auto mset(const Pairs& pairs, Token&& token = {}) const {
    return this->template start<void>(this->make_request("MSET", pairs),
                                      std::forward<Token>(token));
  }

  /// INCR / INCRBY: the value after the increment; errc::server_error for a value that is
  /// not an integer.
  template <class Token = typename Base::default_token_type>
  auto incr(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("INCR", key),
                                              std::forward<Token>(token));
  }
  /// INCRBY: as incr(), by `by`.
  template <class Token = typename Base::default_token_type>
  auto incrby(std::string_view key, std::int64_t by, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("INCRBY", key, by),
                                              std::forward<Token>(token));
  }
};

template <Arg Value>
void detail::encode_set(std::string& out, std::string_view key, const Value& value,
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
