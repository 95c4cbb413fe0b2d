// ServerCommands: the server and connection (PING, TIME, INFO, CLIENT, CONFIG, DBSIZE) and
// publishing (PUBLISH, PUBSUB).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

/// INFO: section (lower case: "server", "memory", "keyspace", ...) -> field -> value.
using ServerInfo = std::map<std::string, std::map<std::string, std::string>>;
/// One connection of CLIENT LIST: "id", "addr", "name", "db", "cmd", ... -> value.
using ClientInfo = std::map<std::string, std::string>;

namespace detail {
// TIME's [seconds, microseconds] as a time point.
std::chrono::system_clock::time_point time_of(Reply&& reply);
// The text replies of INFO and CLIENT LIST, parsed (src/client/server_replies.cpp).
ServerInfo parse_info(std::string_view text);
std::vector<ClientInfo> parse_client_list(std::string_view text);
ServerInfo info_of(Reply&& reply);
std::vector<ClientInfo> client_list_of(Reply&& reply);
}  // namespace detail

/// PUBLISH, PING, INFO, CLIENT and CONFIG: commands on the server itself. Every method is an Asio
/// operation: its last argument is a completion token (Base's default when omitted).
template <class Base>
class ServerCommands : public Base {
 public:
  using Base::Base;

  /// PUBLISH: how many subscribers received the message.
  template <class Token = typename Base::default_token_type>
  auto publish(std::string_view channel, std::string_view message, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("PUBLISH", channel, message),
                                              std::forward<Token>(token));
  }
  /// PUBSUB CHANNELS: the channels that have at least one subscriber; with a pattern, those
  /// matching it.
  template <class Token = typename Base::default_token_type>
  requires(!StringLike<Token>) auto pubsub_channels(Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(this->make_request("PUBSUB", "CHANNELS"),
                                                          std::forward<Token>(token));
  }
  /// PUBSUB CHANNELS pattern: the channels with subscribers that match `pattern`.
  template <class Token = typename Base::default_token_type>
  auto pubsub_channels(std::string_view pattern, Token&& token = {}) const {
    return this->template start<std::vector<std::string>>(
        this->make_request("PUBSUB", "CHANNELS", pattern), std::forward<Token>(token));
  }
  /// PUBSUB NUMSUB: how many subscribers each channel (one, or a range of them) has.
  template <Arg Channels, class Token = typename Base::default_token_type>
  auto pubsub_numsub(const Channels& channels, Token&& token = {}) const {
    return this->template start<std::unordered_map<std::string, std::int64_t>>(
        this->make_request("PUBSUB", "NUMSUB", channels), std::forward<Token>(token));
  }
  /// PING: "PONG".
  template <class Token = typename Base::default_token_type>
  auto ping(Token&& token = {}) const {
    return this->template start<std::string>(this->make_request("PING"),
                                             std::forward<Token>(token));
  }
  /// TIME: the server's clock, to the microsecond.
  template <class Token = typename Base::default_token_type>
  auto time(Token&& token = {}) const {
    return this->template start<std::chrono::system_clock::time_point>(
        this->make_request("TIME"), std::forward<Token>(token),
        [](Reply&& reply) { return detail::time_of(std::move(reply)); });
  }
  /// INFO, every default section or one ("memory", "keyspace", ...): section (lower case) ->
  /// field -> value, as the text reply lists them. An unknown section gives an empty map.
  template <class Token = typename Base::default_token_type>
  requires(!StringLike<Token>) auto info(Token&& token = {}) const {
    return this->template start<ServerInfo>(this->make_request("INFO"), std::forward<Token>(token),
                                            &detail::info_of);
  }
  /// INFO of one section ("memory", "keyspace", ...); as info().
  template <class Token = typename Base::default_token_type>
  auto info(std::string_view section, Token&& token = {}) const {
    return this->template start<ServerInfo>(this->make_request("INFO", section),
                                            std::forward<Token>(token), &detail::info_of);
  }
  /// DBSIZE: how many keys the database holds.
  template <class Token = typename Base::default_token_type>
  auto dbsize(Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("DBSIZE"),
                                              std::forward<Token>(token));
  }
  /// CLIENT LIST: one map per connection to the server ("id", "addr", "name", "db", ...).
  template <class Token = typename Base::default_token_type>
  auto client_list(Token&& token = {}) const {
    return this->template start<std::vector<ClientInfo>>(
        this->make_request("CLIENT", "LIST"), std::forward<Token>(token), &detail::client_list_of);
  }
  /// CLIENT KILL ID: how many connections were closed (0: no client has that id).
  template <class Token = typename Base::default_token_type>
  auto client_kill(std::int64_t id, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("CLIENT", "KILL", "ID", id),
                                              std::forward<Token>(token));
  }
  /// CLIENT SETNAME of the connection the call runs on (on a RedisClient: one of the pool's,
  /// whose handshake name it replaces). A name with spaces is errc::server_error.
  template <class Token = typename Base::default_token_type>
  auto client_setname(std::string_view name, Token&& token = {}) const {
    return this->template start<void>(this->make_request("CLIENT", "SETNAME", name),
                                      std::forward<Token>(token));
  }
  /// CONFIG GET of a parameter or glob pattern: parameter -> value (empty: none matched).
  template <class Token = typename Base::default_token_type>
  auto config_get(std::string_view pattern, Token&& token = {}) const {
    return this->template start<std::map<std::string, std::string>>(
        this->make_request("CONFIG", "GET", pattern), std::forward<Token>(token));
  }
  /// CONFIG SET: an unknown parameter or a value Redis refuses is errc::server_error.
  template <Arg Value, class Token = typename Base::default_token_type>
  auto config_set(std::string_view parameter, const Value& value, Token&& token = {}) const {
    return this->template start<void>(this->make_request("CONFIG", "SET", parameter, value),
                                      std::forward<Token>(token));
  }
};

}  // namespace asyncredis
