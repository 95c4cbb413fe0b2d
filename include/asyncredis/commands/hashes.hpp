// HashCommands: commands on hashes. A key holding another type fails with
// errc::server_error (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"

namespace asyncredis {

/// HGET, HSET and the other commands on hashes. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class HashCommands : public Base {
 public:
  using Base::Base;

  /// HGET: the field's value, or std::nullopt when the key or the field does not exist.
  template <class Token = typename Base::default_token_type>
  auto hget(std::string_view key, std::string_view field, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("HGET", key, field),
                                                            std::forward<Token>(token));
  }
  /// HSET of one field: 1 when the field is new, 0 when it was updated.
  template <Arg Value, class Token = typename Base::default_token_type>
  auto hset(std::string_view key, std::string_view field, const Value& value,
            Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HSET", key, field, value),
                                              std::forward<Token>(token));
  }
  /// HSET of a range of (field, value) pairs: how many fields are new.
  template <Arg Pairs, class Token = typename Base::default_token_type>
  auto hset(std::string_view key, const Pairs& pairs, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HSET", key, pairs),
                                              std::forward<Token>(token));
  }
  /// HGETALL: every field and value; empty for a missing key.
  template <class Token = typename Base::default_token_type>
  auto hgetall(std::string_view key, Token&& token = {}) const {
    return this->template start<std::unordered_map<std::string, std::string>>(
        this->make_request("HGETALL", key), std::forward<Token>(token));
  }
  /// HDEL of one field or a range: how many were removed.
  template <Arg Fields, class Token = typename Base::default_token_type>
  auto hdel(std::string_view key, const Fields& fields, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HDEL", key, fields),
                                              std::forward<Token>(token));
  }
  /// HINCRBY / HINCRBYFLOAT: the field's value after the increment (a missing field counts as
  /// 0); a value that is not a number is errc::server_error.
  template <class Token = typename Base::default_token_type>
  auto hincrby(std::string_view key, std::string_view field, std::int64_t by,
               Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HINCRBY", key, field, by),
                                              std::forward<Token>(token));
  }
  /// HINCRBYFLOAT: as hincrby(), by a floating-point amount.
  template <class Token = typename Base::default_token_type>
  auto hincrbyfloat(std::string_view key, std::string_view field, double by,
                    Token&& token = {}) const {
    return this->template start<double>(this->make_request("HINCRBYFLOAT", key, field, by),
                                        std::forward<Token>(token));
  }
  /// HMGET: one optional per field (one or a range), in order; std::nullopt for a missing one.
  template <Arg Fields, class Token = typename Base::default_token_type>
  auto hmget(std::string_view key, const Fields& fields, Token&& token = {}) const {
    return this->template start<std::vector<std::optional<std::string>>>(
        this->make_request("HMGET", key, fields), std::forward<Token>(token));
  }
  /// HEXISTS: whether the field exists.
  template <class Token = typename Base::default_token_type>
  auto hexists(std::string_view key, std::string_view field, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("HEXISTS", key, field),
                                      std::forward<Token>(token));
  }
  /// HLEN: how many fields; 0 for a missing key.
  template <class Token = typename Base::default_token_type>
  auto hlen(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HLEN", key),
                                              std::forward<Token>(token));
  }
  /// HSETNX: true when the field was new and is set, false when it existed (left as it was).
  template <Arg Value, class Token = typename Base::default_token_type>
  auto hsetnx(std::string_view key, std::string_view field, const Value& value,
              Token&& token = {}) const {
    return this->template start<bool>(this->make_request("HSETNX", key, field, value),
                                      std::forward<Token>(token));
  }
  /// HSCAN from `cursor` ("0" to begin): one page of (field, value) pairs and the cursor of
  /// the next call (see ScanPage). options.type is SCAN's only: Error(errc::invalid_argument).
  template <class Token = typename Base::default_token_type>
  auto hscan(std::string_view key, std::string_view cursor, const ScanOptions& options,
             Token&& token = {}) const {
    return this->template start<ScanPage<std::vector<std::pair<std::string, std::string>>>>(
        this->make_request("HSCAN", key, cursor, detail::cursor_args("HSCAN", options)),
        std::forward<Token>(token),
        detail::ScanPageConvert<detail::FlatPairs<std::string, std::string>>{});
  }
};

}  // namespace asyncredis
