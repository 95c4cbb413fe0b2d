// SortedSetCommands: commands on sorted sets. A key holding another type fails with
// errc::server_error (WRONGTYPE ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/scan.hpp"

namespace asyncredis {

/// Options of ZRANGE.
struct ZRangeOptions {
  /// How start and stop are read.
  enum class By { rank /**< by index */, score /**< BYSCORE */, lex /**< BYLEX */ };
  /// LIMIT offset count of a BYSCORE or BYLEX range.
  struct Limit {
    std::int64_t offset = 0;  ///< members skipped first
    std::int64_t count = -1;  ///< -1: every member after offset
  };
  By by = By::rank;            ///< BYSCORE / BYLEX, if any
  bool reverse = false;        ///< REV: highest first (then start is the higher bound)
  std::optional<Limit> limit;  ///< LIMIT: by score or lex only
};

namespace detail {
// ZRANGE's arguments after start and stop.
std::vector<std::string> zrange_args(const ZRangeOptions& options, bool with_scores);
}  // namespace detail

/// ZADD, ZRANGE and the other commands on sorted sets. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class SortedSetCommands : public Base {
 public:
  using Base::Base;

  /// ZADD of one member: 1 when it is new.
  template <class Token = typename Base::default_token_type>
  auto zadd(std::string_view key, double score, std::string_view member, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZADD", key, score, member),
                                              std::forward<Token>(token));
  }
  /// ZADD of a range of (score, member) pairs: how many are new.
  template <Arg Pairs, class Token = typename Base::default_token_type>
  auto zadd(std::string_view key, const Pairs& score_member_pairs, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZADD", key, score_member_pairs),
                                              std::forward<Token>(token));
  }
  /// ZREM of one member or a range: how many were removed.
  template <Arg Members, class Token = typename Base::default_token_type>
  auto zrem(std::string_view key, const Members& members, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZREM", key, members),
                                              std::forward<Token>(token));
  }
  /// ZRANGEBYSCORE min max: bounds are numbers or Redis's forms ("-inf", "(1.5").
  template <Arg Min, Arg Max, class Token = typename Base::default_token_type>
  auto zrangebyscore(std::string_view key, const Min& min, const Max& max,
                     Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("ZRANGEBYSCORE", key, min, max), std::forward<Token>(token));
  }
  /// ZREMRANGEBYSCORE min max: how many members were removed.
  template <Arg Min, Arg Max, class Token = typename Base::default_token_type>
  auto zremrangebyscore(std::string_view key, const Min& min, const Max& max,
                        Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZREMRANGEBYSCORE", key, min, max),
                                              std::forward<Token>(token));
  }
  /// ZSCORE: the member's score, or std::nullopt when the key or the member does not exist.
  template <class Token = typename Base::default_token_type>
  auto zscore(std::string_view key, std::string_view member, Token&& token = {}) const {
    return this->template start<std::optional<double>>(this->make_request("ZSCORE", key, member),
                                                       std::forward<Token>(token));
  }
  /// ZINCRBY: the member's score after adding `by` (a new member starts at 0).
  template <class Token = typename Base::default_token_type>
  auto zincrby(std::string_view key, double by, std::string_view member, Token&& token = {}) const {
    return this->template start<double>(this->make_request("ZINCRBY", key, by, member),
                                        std::forward<Token>(token));
  }
  /// ZRANGE start stop with `options` (by rank, score or lex, reversed, limited): the members;
  /// zrange_with_scores gives (member, score) pairs. Bounds are numbers or Redis's forms
  /// ("(1.5", "-inf", "[a", "-"). A bad bound or LIMIT by rank is errc::server_error.
  template <Arg Start, Arg Stop, class Token = typename Base::default_token_type>
  auto zrange(std::string_view key, const Start& start, const Stop& stop,
              const ZRangeOptions& options, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("ZRANGE", key, start, stop, detail::zrange_args(options, false)),
        std::forward<Token>(token));
  }
  /// ZRANGE ... WITHSCORES: as zrange(), the (member, score) pairs.
  template <Arg Start, Arg Stop, class Token = typename Base::default_token_type>
  auto zrange_with_scores(std::string_view key, const Start& start, const Stop& stop,
                          const ZRangeOptions& options, Token&& token = {}) const {
    return this->template start<std::vector<std::pair<std::string, double>>>(
        this->make_request("ZRANGE", key, start, stop, detail::zrange_args(options, true)),
        std::forward<Token>(token), detail::FlatPairs<std::string, double>{});
  }
  /// ZRANK: the member's rank (0: lowest score), or std::nullopt when it is not there.
  template <class Token = typename Base::default_token_type>
  auto zrank(std::string_view key, std::string_view member, Token&& token = {}) const {
    return this->template start<std::optional<std::int64_t>>(
        this->make_request("ZRANK", key, member), std::forward<Token>(token));
  }
  /// ZCARD: how many members; 0 for a missing key.
  template <class Token = typename Base::default_token_type>
  auto zcard(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZCARD", key),
                                              std::forward<Token>(token));
  }
  /// ZPOPMIN: up to `count` (member, score) pairs removed, lowest score first.
  template <class Token = typename Base::default_token_type>
  auto zpopmin(std::string_view key, std::size_t count, Token&& token = {}) const {
    return this->template start<std::vector<std::pair<std::string, double>>>(
        this->make_request("ZPOPMIN", key, count), std::forward<Token>(token),
        detail::FlatPairs<std::string, double>{});
  }
  /// ZCOUNT min max: how many members have a score in the range (bounds as zrangebyscore).
  template <Arg Min, Arg Max, class Token = typename Base::default_token_type>
  auto zcount(std::string_view key, const Min& min, const Max& max, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("ZCOUNT", key, min, max),
                                              std::forward<Token>(token));
  }
  /// ZSCAN from `cursor` ("0" to begin): one page of (member, score) pairs and the cursor of
  /// the next call (see ScanPage). options.type is SCAN's only: Error(errc::invalid_argument).
  template <class Token = typename Base::default_token_type>
  auto zscan(std::string_view key, std::string_view cursor, const ScanOptions& options,
             Token&& token = {}) const {
    return this->template start<ScanPage<std::vector<std::pair<std::string, double>>>>(
        this->make_request("ZSCAN", key, cursor, detail::cursor_args("ZSCAN", options)),
        std::forward<Token>(token),
        detail::ScanPageConvert<detail::FlatPairs<std::string, double>>{});
  }
};

}  // namespace asyncredis
