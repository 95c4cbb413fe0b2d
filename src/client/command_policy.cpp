#include "client/command_policy.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

#include "protocol/command_reader.hpp"

namespace asyncredis::detail {

namespace {

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return is_named(name, n); });
}

constexpr std::array<std::string_view, 6> kSubscribe = {
    "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"};
constexpr std::array<std::string_view, 10> kBlocking = {
    "BLPOP",    "BRPOP",    "BRPOPLPUSH", "BLMOVE", "BLMPOP",
    "BZPOPMIN", "BZPOPMAX", "BZMPOP",     "WAIT",   "WAITAOF"};

// XREAD and XREADGROUP block only with a BLOCK option (before STREAMS).
bool blocks(const std::vector<std::string_view>& args) {
  if (one_of(args[0], kBlocking)) return true;
  if (!is_named(args[0], "XREAD") && !is_named(args[0], "XREADGROUP")) return false;
  for (std::size_t i = 1; i < args.size() && !is_named(args[i], "STREAMS"); ++i) {
    if (is_named(args[i], "BLOCK")) return true;
  }
  return false;
}

// What no connection of the client's may run, shared or leased.
std::optional<std::string> breaks_any(const std::vector<std::string_view>& args) {
  const std::string_view name = args[0];
  if (one_of(name, kSubscribe)) {
    return upper_name(name) +
           " would put the connection in subscribed mode, where it answers no request: use "
           "asyncredis::Subscriber, which has a connection of its own";
  }
  if (is_named(name, "MONITOR")) {
    return std::string(
        "MONITOR turns the connection into a feed of every command the server runs, where it "
        "answers no request; asyncredis has no monitor API (use redis-cli monitor)");
  }
  if (is_named(name, "SELECT")) {
    return std::string(
        "SELECT would switch the database of a connection the pool hands to other callers: "
        "make a RedisClient for that database (RedisClient(executor, settings, db))");
  }
  if (is_named(name, "CLIENT") && args.size() > 1 && is_named(args[1], "REPLY")) {
    return std::string(
        "CLIENT REPLY would leave requests without the replies they wait for: send the "
        "commands and ignore the results you do not need");
  }
  if (is_named(name, "RESET")) {
    return std::string(
        "RESET would drop the database, user and name the client set up on the connection: "
        "disconnect() and connect() instead");
  }
  if (is_named(name, "QUIT")) {
    return std::string(
        "QUIT would close a connection the client reopens at once: use disconnect()");
  }
  if (is_named(name, "AUTH") || is_named(name, "HELLO")) {
    return upper_name(name) +
           " would change the user or protocol of a connection the client set up (and reads "
           "as RESP2): set RedisSettings::username and password instead";
  }
  return std::nullopt;
}

// What a connection shared by every caller may not run: state that outlives the request.
std::optional<std::string> breaks_shared(const std::vector<std::string_view>& args,
                                         bool& in_multi) {
  const std::string_view name = args[0];
  if (is_named(name, "MULTI")) {
    in_multi = true;
  } else if (is_named(name, "EXEC") || is_named(name, "DISCARD")) {
    if (!in_multi) {
      return upper_name(name) +
             " without its MULTI in the same request would end another caller's transaction: "
             "use transaction()";
    }
    in_multi = false;
  } else if (is_named(name, "WATCH")) {
    return std::string(
        "WATCH needs a connection of its own: take a Lease (client.lease()), then WATCH and "
        "transaction() on it");
  } else if (blocks(args)) {
    return upper_name(name) +
           " blocks the connection it runs on, which the pool shares with every caller: run "
           "it on a Lease (client.lease())";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> refusal(std::string_view payload, ConnectionUse use) {
  CommandReader reader(payload);
  std::vector<std::string_view> args;
  bool in_multi = false;
  while (reader.next(args)) {
    if (auto why = breaks_any(args)) return why;
    if (use == ConnectionUse::shared) {
      if (auto why = breaks_shared(args, in_multi)) return why;
    }
  }
  if (in_multi) {
    return std::string(
        "MULTI without its EXEC in the same request would leave a shared connection inside a "
        "transaction for every other caller: use transaction()");
  }
  return std::nullopt;
}

}  // namespace asyncredis::detail
