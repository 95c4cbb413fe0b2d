// SetCommands: commands on sets. A key holding another type fails with errc::server_error
// (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"

namespace asyncredis {

template <class Base>
class SetCommands : public Base {
 public:
  using Base::Base;

  // SADD / SREM of one member or a range: how many were added / removed.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto sadd(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("SADD", key, members),
                                              std::forward<Token>(token));
  }
  template <Arg Members, class Token = typename Base::default_token_type>
  auto srem(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("SREM", key, members),
                                              std::forward<Token>(token));
  }
  // SMEMBERS: every member, in no particular order; empty for a missing key.
  template <class Token = typename Base::default_token_type>
  auto smembers(std::string_view key, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("SMEMBERS", key),
                                                          std::forward<Token>(token));
  }
};

}  // namespace asyncredis
