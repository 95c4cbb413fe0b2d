// HyperLogLogCommands: approximate distinct counting (PFADD, PFCOUNT, PFMERGE). A key
// holding another type fails with errc::server_error (WRONGTYPE ...).
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "asyncredis/command.hpp"

namespace asyncredis {

/// PFADD, PFCOUNT and PFMERGE: approximate distinct counts. Every method is an Asio operation:
/// its last argument is a completion token (Base's default when omitted), and a key holding
/// another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class HyperLogLogCommands : public Base {
 public:
  using Base::Base;

  /// PFADD of one element or a range: true when the estimate changed (or the key was made).
  template <Arg Elements, class Token = typename Base::default_token_type>
  auto pfadd(std::string_view key, const Elements& elements, Token&& token = {}) const {
    return this->template start<bool>(this->make_request("PFADD", key, elements),
                                      std::forward<Token>(token));
  }
  /// PFCOUNT over one key or the union of a range of keys: the estimated distinct count;
  /// 0 for missing keys.
  template <Arg Keys, class Token = typename Base::default_token_type>
  auto pfcount(const Keys& keys, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("PFCOUNT", keys),
                                              std::forward<Token>(token));
  }
  /// PFMERGE: `destination` becomes the union of itself and `sources` (one key or a range).
  template <Arg Sources, class Token = typename Base::default_token_type>
  auto pfmerge(std::string_view destination, const Sources& sources, Token&& token = {}) const {
    return this->template start<void>(this->make_request("PFMERGE", destination, sources),
                                      std::forward<Token>(token));
  }
};

}  // namespace asyncredis
