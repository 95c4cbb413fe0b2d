// KeyCommands: commands on keys of any type (DEL, EXPIRE, TTL, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <utility>

#include "asyncredis/command.hpp"

namespace asyncredis {

template <class Base>
class KeyCommands : public Base {
 public:
  using Base::Base;

  // DEL / UNLINK / EXISTS over one key or a range of keys: how many keys were affected.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto del(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("DEL", keys),
                                              std::forward<Token>(token));
  }
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto unlink(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("UNLINK", keys),
                                              std::forward<Token>(token));
  }
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto exists(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("EXISTS", keys),
                                              std::forward<Token>(token));
  }

  // EXPIRE / PEXPIRE / PEXPIREAT: true when the key exists and got the expiry.
  template <class Token = typename Base::default_token_type>
  auto expire(std::string_view key, std::chrono::seconds ttl, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("EXPIRE", key, ttl.count()),
                                      std::forward<Token>(token));
  }
  template <class Token = typename Base::default_token_type>
  auto pexpire(std::string_view key, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("PEXPIRE", key, ttl.count()),
                                      std::forward<Token>(token));
  }
  template <class Token = typename Base::default_token_type>
  auto pexpireat(std::string_view key, std::chrono::system_clock::time_point at,
                 Token&& token = {}) const {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
    return this->template start<bool>(this->make_request("PEXPIREAT", key, ms.count()),
                                      std::forward<Token>(token));
  }

  // TTL / PTTL: the remaining time to live; -1 when the key has no expiry, -2 when the key
  // does not exist (as Redis answers).
  template <class Token = typename Base::default_token_type>
  auto ttl(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("TTL", key),
                                              std::forward<Token>(token));
  }
  template <class Token = typename Base::default_token_type>
  auto pttl(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("PTTL", key),
                                              std::forward<Token>(token));
  }
};

}  // namespace asyncredis
