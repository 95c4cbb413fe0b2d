// ListCommands: commands on lists. A key holding another type fails with errc::server_error
// (WRONGTYPE ...). The blocking forms are on a Lease only (commands/blocking.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/command_base.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

/// Which end of a list LMOVE / BLMOVE take from or push to.
enum class ListEnd { left, right };

namespace detail {
constexpr std::string_view name_of(ListEnd end) noexcept {
  return end == ListEnd::left ? "LEFT" : "RIGHT";
}
}  // namespace detail

/// LPUSH, LPOP, LRANGE and the other commands on lists. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class ListCommands : public Base {
 public:
  using Base::Base;

  /// LPUSH / RPUSH of one value or a range (pushed in order): the list's length after.
  template <Arg Values, class Token = typename Base::default_token_type>
  auto lpush(std::string_view key, const Values& values, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("LPUSH", key, values),
                                              std::forward<Token>(token));
  }
  /// RPUSH: as lpush(), at the tail.
  template <Arg Values, class Token = typename Base::default_token_type>
  auto rpush(std::string_view key, const Values& values, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("RPUSH", key, values),
                                              std::forward<Token>(token));
  }
  /// LPOP / RPOP: the element, or std::nullopt for a missing (so empty) list.
  template <class Token = typename Base::default_token_type>
  requires(!std::is_integral_v<std::remove_cvref_t<Token>>) auto lpop(std::string_view key,
                                                                      Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("LPOP", key),
                                                            std::forward<Token>(token));
  }
  /// RPOP: as lpop(), from the tail.
  template <class Token = typename Base::default_token_type>
  requires(!std::is_integral_v<std::remove_cvref_t<Token>>) auto rpop(std::string_view key,
                                                                      Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(this->make_request("RPOP", key),
                                                            std::forward<Token>(token));
  }
  /// LPOP / RPOP key count: up to `count` elements; empty for a missing list.
  template <class Token = typename Base::default_token_type>
  auto lpop(std::string_view key, std::size_t count, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("LPOP", key, count), std::forward<Token>(token),
        detail::NilAsEmpty<std::vector<std::string>>{});
  }
  /// RPOP key count: as lpop() with a count, from the tail.
  template <class Token = typename Base::default_token_type>
  auto rpop(std::string_view key, std::size_t count, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("RPOP", key, count), std::forward<Token>(token),
        detail::NilAsEmpty<std::vector<std::string>>{});
  }
  /// LRANGE start stop (inclusive; negative counts from the end): the elements; empty for a
  /// missing list or a range outside it.
  template <class Token = typename Base::default_token_type>
  auto lrange(std::string_view key, std::int64_t start, std::int64_t stop,
              Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("LRANGE", key, start, stop), std::forward<Token>(token));
  }
  /// LLEN: the length; 0 for a missing list.
  template <class Token = typename Base::default_token_type>
  auto llen(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("LLEN", key),
                                              std::forward<Token>(token));
  }
  /// LTRIM start stop: keeps only that range (an empty range deletes the key).
  template <class Token = typename Base::default_token_type>
  auto ltrim(std::string_view key, std::int64_t start, std::int64_t stop,
             Token&& token = {}) const {
    return this->template start<void>(this->make_request("LTRIM", key, start, stop),
                                      std::forward<Token>(token));
  }
  /// LMOVE: the element moved from `from`'s `from_end` to `to`'s `to_end`, or std::nullopt
  /// when `from` is empty.
  template <class Token = typename Base::default_token_type>
  auto lmove(std::string_view from, std::string_view to, ListEnd from_end, ListEnd to_end,
             Token&& token = {}) const {
    return this->template start<std::optional<std::string>>(
        this->make_request("LMOVE", from, to, detail::name_of(from_end), detail::name_of(to_end)),
        std::forward<Token>(token));
  }
};

}  // namespace asyncredis
