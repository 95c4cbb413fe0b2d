// SortedSetCommands: commands on sorted sets. A key holding another type fails with
// errc::server_error (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"

namespace asyncredis {

template <class Base>
class SortedSetCommands : public Base {
 public:
  using Base::Base;

  // ZADD of one member: 1 when it is new.
  template <class Token = typename Base::default_token_type>
  auto zadd(std::string_view key, double score, std::string_view member, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZADD", key, score, member),
                                              std::forward<Token>(token));
  }
  // ZADD of a range of (score, member) pairs: how many are new.
  template <Arg Pairs, class Token = typename Base::default_token_type>
  auto zadd(std::string_view key, const Pairs& score_member_pairs, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZADD", key, score_member_pairs),
                                              std::forward<Token>(token));
  }
  // ZREM of one member or a range: how many were removed.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto zrem(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZREM", key, members),
                                              std::forward<Token>(token));
  }
  // ZRANGEBYSCORE min max: bounds are numbers or Redis's forms ("-inf", "(1.5").
  template <Arg Min, Arg Max, class Token = typename Base::default_token_type>
  auto zrangebyscore(std::string_view key, const Min& min, const Max& max,
                     Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("ZRANGEBYSCORE", key, min, max), std::forward<Token>(token));
  }
  // ZREMRANGEBYSCORE min max: how many members were removed.
  template <Arg Min, Arg Max, class Token = typename Base::default_token_type>
  auto zremrangebyscore(std::string_view key, const Min& min, const Max& max,
                        Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZREMRANGEBYSCORE", key, min, max),
                                              std::forward<Token>(token));
  }
};

}  // namespace asyncredis
