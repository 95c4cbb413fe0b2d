// SetCommands: commands on sets. A key holding another type fails with errc::server_error
// (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"

namespace asyncredis {

/// SADD, SMEMBERS and the other commands on sets. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class SetCommands : public Base {
 public:
  using Base::Base;

  /// SADD / SREM of one member or a range: how many were added / removed.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto sadd(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("SADD", key, members),
                                              std::forward<Token>(token));
  }
  /// SREM: how many members were removed.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto srem(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("SREM", key, members),
                                              std::forward<Token>(token));
  }
  /// SMEMBERS: every member, in no particular order; empty for a missing key.
  template <class Token = typename Base::default_token_type>
  auto smembers(std::string_view key, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("SMEMBERS", key),
                                                          std::forward<Token>(token));
  }
  /// SISMEMBER: whether `member` is in the set (false for a missing key).
  template <class Token = typename Base::default_token_type>
  auto sismember(std::string_view key, std::string_view member, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("SISMEMBER", key, member),
                                      std::forward<Token>(token));
  }
  /// SMISMEMBER: for each member (one or a range), in order, whether it is in the set.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto smismember(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::vector<bool>>(this->make_request("SMISMEMBER", key, members),
                                                   std::forward<Token>(token));
  }
  /// SCARD: how many members; 0 for a missing key.
  template <class Token = typename Base::default_token_type>
  auto scard(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("SCARD", key),
                                              std::forward<Token>(token));
  }
  /// SINTER / SUNION over one key or a range: the members of the intersection / union (a
  /// missing key is an empty set).
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto sinter(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("SINTER", keys),
                                                          std::forward<Token>(token));
  }
  /// SUNION: as sinter(), the union.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto sunion(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("SUNION", keys),
                                                          std::forward<Token>(token));
  }
  /// SSCAN from `cursor` ("0" to begin): one page of members and the cursor of the next call
  /// (see ScanPage). options.type is SCAN's only: Error(errc::invalid_argument).
  template <class Token = typename Base::default_token_type>
  auto sscan(std::string_view key, std::string_view cursor, const ScanOptions& options,
             Token&& token = {}) const {
    return this->template start<ScanPage<std::vector<std::string>>>(
        this->make_request("SSCAN", key, cursor, detail::cursor_args("SSCAN", options)),
        std::forward<Token>(token),
        detail::ScanPageConvert<detail::DefaultConvert<std::vector<std::string>>>{});
  }
};

}  // namespace asyncredis
