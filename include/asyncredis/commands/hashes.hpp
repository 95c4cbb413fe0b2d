// HashCommands: commands on hashes. A key holding another type fails with
// errc::server_error (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "asyncredis/command.hpp"

namespace asyncredis {

template <class Base>
class HashCommands : public Base {
 public:
  using Base::Base;

  // HGET: the field's value, or std::nullopt when the key or the field does not exist.
  template <class Token = typename Base::default_token_type>
  auto hget(std::string_view key, std::string_view field, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("HGET", key, field),
                                                            std::forward<Token>(token));
  }
  // HSET of one field: 1 when the field is new, 0 when it was updated.
  template <Arg Value, class Token = typename Base::default_token_type>
  auto hset(std::string_view key, std::string_view field, const Value& value,
            Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HSET", key, field, value),
                                              std::forward<Token>(token));
  }
  // HSET of a range of (field, value) pairs: how many fields are new.
  template <Arg Pairs, class Token = typename Base::default_token_type>
  auto hset(std::string_view key, const Pairs& pairs, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HSET", key, pairs),
                                              std::forward<Token>(token));
  }
  // HGETALL: every field and value; empty for a missing key.
  template <class Token = typename Base::default_token_type>
  auto hgetall(std::string_view key, Token&& token = {}) const {
    return this->template start<std::unordered_map<std::string, std::string>>(
        this->make_request("HGETALL", key), std::forward<Token>(token));
  }
  // HDEL of one field or a range: how many were removed.
  template <Arg Fields, class Token = typename Base::default_token_type>
  auto hdel(std::string_view key, const Fields& fields, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("HDEL", key, fields),
                                              std::forward<Token>(token));
  }
};

}  // namespace asyncredis
