// KeyCommands: commands on keys of any type (DEL, EXPIRE, TTL, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/command_base.hpp"

namespace asyncredis {

/// DEL, EXPIRE, TTL and the other commands on keys of any type. Every method is an Asio
/// operation: its last argument is a completion token (Base's default when omitted).
template <class Base>
class KeyCommands : public Base {
 public:
  using Base::Base;

  /// DEL / UNLINK / EXISTS over one key or a range of keys: how many keys were affected.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto del(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("DEL", keys),
                                              std::forward<Token>(token));
  }
  /// UNLINK: as del(), the memory freed in the background.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto unlink(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("UNLINK", keys),
                                              std::forward<Token>(token));
  }
  /// EXISTS: how many of the keys exist (a key named twice counts twice).
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto exists(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("EXISTS", keys),
                                              std::forward<Token>(token));
  }

  /// EXPIRE / PEXPIRE / PEXPIREAT: true when the key exists and got the expiry.
  template <class Token = typename Base::default_token_type>
  auto expire(std::string_view key, std::chrono::seconds ttl, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("EXPIRE", key, ttl.count()),
                                      std::forward<Token>(token));
  }
  /// PEXPIRE: as expire(), to the millisecond.
  template <class Token = typename Base::default_token_type>
  auto pexpire(std::string_view key, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("PEXPIRE", key, ttl.count()),
                                      std::forward<Token>(token));
  }
  /// PEXPIREAT: as expire(), until the time point `at`.
  template <class Token = typename Base::default_token_type>
  auto pexpireat(std::string_view key, std::chrono::system_clock::time_point at,
                 Token&& token = {}) const {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
    return this->template start<bool>(this->make_request("PEXPIREAT", key, ms.count()),
                                      std::forward<Token>(token));
  }

  /// TTL / PTTL: the remaining time to live; -1 when the key has no expiry, -2 when the key
  /// does not exist (as Redis answers).
  template <class Token = typename Base::default_token_type>
  auto ttl(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("TTL", key),
                                              std::forward<Token>(token));
  }
  /// PTTL: as ttl(), in milliseconds.
  template <class Token = typename Base::default_token_type>
  auto pttl(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("PTTL", key),
                                              std::forward<Token>(token));
  }
  /// TYPE: "string", "list", "set", "zset", "hash", "stream", or "none" for a missing key.
  template <class Token = typename Base::default_token_type>
  auto type(std::string_view key, Token&& token = {}) const {
    return this->template start<std::string>(this->make_request("TYPE", key),
                                             std::forward<Token>(token));
  }
  /// RENAME (replacing `to` if it exists). A missing `from` is errc::server_error ("ERR no
  /// such key").
  template <class Token = typename Base::default_token_type>
  auto rename(std::string_view from, std::string_view to, Token&& token = {}) const {
    return this->template start<void>(this->make_request("RENAME", from, to),
                                      std::forward<Token>(token));
  }
  /// PERSIST: true when the key had an expiry and lost it.
  template <class Token = typename Base::default_token_type>
  auto persist(std::string_view key, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("PERSIST", key),
                                      std::forward<Token>(token));
  }
  /// COPY: true when copied; false when `from` is missing or `to` exists (without `replace`).
  template <class Token = typename Base::default_token_type>
  auto copy(std::string_view from, std::string_view to, bool replace, Token&& token = {}) const {
    return this->template start<bool>(
        this->make_request("COPY", from, to, detail::flag_arg(replace, "REPLACE")),
        std::forward<Token>(token));
  }
  /// DUMP: the key's value serialized (binary; for restore()), or std::nullopt when missing.
  template <class Token = typename Base::default_token_type>
  auto dump(std::string_view key, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("DUMP", key),
                                                            std::forward<Token>(token));
  }
  /// RESTORE of a dump() with `ttl` (0: none). An existing key without `replace` is
  /// errc::server_error (BUSYKEY); bytes that are not a dump too.
  template <class Token = typename Base::default_token_type>
  auto restore(std::string_view key, std::chrono::milliseconds ttl, std::string_view serialized,
               bool replace, Token&& token = {}) const {
    return this->template start<void>(this->make_request("RESTORE", key, ttl.count(), serialized,
                                                         detail::flag_arg(replace, "REPLACE")),
                                      std::forward<Token>(token));
  }
  /// OBJECT ENCODING: how Redis stores the value ("listpack", "hashtable", "int", ...), or
  /// std::nullopt for a missing key.
  template <class Token = typename Base::default_token_type>
  auto object_encoding(std::string_view key, Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(
        this->make_request("OBJECT", "ENCODING", key), std::forward<Token>(token));
  }
};

}  // namespace asyncredis
