// ServerCommands: the server and connection (PING, TIME, INFO, CLIENT, CONFIG, DBSIZE) and
// publishing (PUBLISH, PUBSUB).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

namespace detail {
// TIME's [seconds, microseconds] as a time point.
std::chrono::system_clock::time_point time_of(Reply&& reply);
}  // namespace detail

template <class Base>
class ServerCommands : public Base {
 public:
  using Base::Base;

  // PUBLISH: how many subscribers received the message.
  template <class Token = typename Base::default_token_type>
  auto publish(std::string_view channel, std::string_view message, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("PUBLISH", channel, message),
                                              std::forward<Token>(token));
  }
  // PUBSUB CHANNELS: the channels that have at least one subscriber; with a pattern, those
  // matching it.
  template <class Token = typename Base::default_token_type>
  requires(!StringLike<Token>) auto pubsub_channels(Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("PUBSUB", "CHANNELS"),
                                                          std::forward<Token>(token));
  }
  template <class Token = typename Base::default_token_type>
  auto pubsub_channels(std::string_view pattern, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("PUBSUB", "CHANNELS", pattern), std::forward<Token>(token));
  }
  // PUBSUB NUMSUB: how many subscribers each channel (one, or a range of them) has.
  template <Arg Channels, class Token = typename Base::default_token_type>
  auto pubsub_numsub(const Channels& channels, Token&& token = {}) const {
    return this->template start<std::unordered_map<std::string, std::int64_t>>(
        this->make_request("PUBSUB", "NUMSUB", channels), std::forward<Token>(token));
  }
  // PING: "PONG".
  template <class Token = typename Base::default_token_type>
  auto ping(Token&& token = {}) const {
    return this->template start<std::string>(this->make_request("PING"),
                                             std::forward<Token>(token));
  }
  // TIME: the server's clock, to the microsecond.
  template <class Token = typename Base::default_token_type>
  auto time(Token&& token = {}) const {
    return this->template start<std::chrono::system_clock::time_point>(
        this->make_request("TIME"), std::forward<Token>(token),
        [](Reply&& reply) { return detail::time_of(std::move(reply)); });
  }
};

}  // namespace asyncredis
