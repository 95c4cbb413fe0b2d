// Which commands the pool's shared connections and a Lease's connection refuse, and why.
#include "client/command_policy.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asyncredis/command.hpp"

namespace asyncredis::detail {
namespace {

using Args = std::vector<std::string>;

std::string encode(const std::vector<Args>& commands) {
  std::string out;
  for (const Args& args : commands) encode_command(out, args);
  return out;
}

std::optional<std::string> shared(const std::vector<Args>& commands) {
  return refusal(encode(commands), ConnectionUse::shared);
}
std::optional<std::string> exclusive(const std::vector<Args>& commands) {
  return refusal(encode(commands), ConnectionUse::exclusive);
}

void expect_refused(const std::optional<std::string>& why, const std::string& names,
                    const std::string& points_to) {
  ASSERT_TRUE(why) << names << " was let through";
  EXPECT_NE(why->find(names), std::string::npos) << *why;
  EXPECT_NE(why->find(points_to), std::string::npos) << *why;
}

TEST(CommandPolicy, OrdinaryCommandsRunAnywhere) {
  for (const Args& args : std::vector<Args>{{"GET", "k"},
                                            {"SET", "k", "v"},
                                            {"CLIENT", "SETNAME", "x"},
                                            {"XREAD", "COUNT", "1", "STREAMS", "s", "0"},
                                            {"XREAD", "STREAMS", "block", "0"},
                                            {"UNWATCH"},
                                            {"PUBLISH", "ch", "SUBSCRIBE"}}) {
    EXPECT_FALSE(shared({args})) << args[0];
    EXPECT_FALSE(exclusive({args})) << args[0];
  }
}

TEST(CommandPolicy, NoConnectionOfTheClientsSubscribesOrMonitors) {
  for (const char* name :
       {"SUBSCRIBE", "psubscribe", "SSubscribe", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"}) {
    expect_refused(shared({{name, "ch"}}), "SUBSCRIBE", "asyncredis::Subscriber");
    expect_refused(exclusive({{name, "ch"}}), "SUBSCRIBE", "asyncredis::Subscriber");
  }
  expect_refused(shared({{"monitor"}}), "MONITOR", "redis-cli monitor");
  expect_refused(exclusive({{"MONITOR"}}), "MONITOR", "redis-cli monitor");
}

TEST(CommandPolicy, ConnectionStateStaysAsTheClientSetItUp) {
  for (auto* check : {&shared, &exclusive}) {
    expect_refused((*check)({{"SELECT", "5"}}), "SELECT", "RedisClient(executor, settings, db)");
    expect_refused((*check)({{"client", "reply", "off"}}), "CLIENT REPLY", "ignore the results");
    expect_refused((*check)({{"RESET"}}), "RESET", "disconnect()");
    expect_refused((*check)({{"QUIT"}}), "QUIT", "disconnect()");
    expect_refused((*check)({{"AUTH", "pw"}}), "AUTH", "RedisSettings::username");
    expect_refused((*check)({{"HELLO", "3"}}), "HELLO", "RedisSettings::username");
  }
}

TEST(CommandPolicy, SharedConnectionsTakeNoBlockingCommands) {
  for (const Args& args :
       std::vector<Args>{{"BLPOP", "q", "0"},
                         {"brpop", "q", "0"},
                         {"BRPOPLPUSH", "a", "b", "0"},
                         {"BLMOVE", "a", "b", "LEFT", "LEFT", "0"},
                         {"BLMPOP", "0", "1", "q", "LEFT"},
                         {"BZPOPMIN", "z", "0"},
                         {"BZPOPMAX", "z", "0"},
                         {"BZMPOP", "0", "1", "z", "MIN"},
                         {"WAIT", "1", "0"},
                         {"WAITAOF", "1", "0", "0"},
                         {"XREAD", "BLOCK", "0", "STREAMS", "s", "$"},
                         {"XREADGROUP", "GROUP", "g", "c", "block", "10", "STREAMS", "s", ">"}}) {
    expect_refused(shared({args}), "blocks the connection", "Lease (client.lease())");
    EXPECT_FALSE(exclusive({args})) << args[0] << ": a Lease is where they belong";
  }
}

TEST(CommandPolicy, TransactionsOnASharedConnectionOpenAndCloseInOneRequest) {
  EXPECT_FALSE(shared({{"MULTI"}, {"INCR", "a"}, {"EXEC"}}));
  EXPECT_FALSE(shared({{"multi"}, {"INCR", "a"}, {"discard"}}));
  expect_refused(shared({{"MULTI"}}), "MULTI without its EXEC", "transaction()");
  expect_refused(shared({{"MULTI"}, {"INCR", "a"}}), "MULTI without its EXEC", "transaction()");
  expect_refused(shared({{"EXEC"}}), "EXEC without its MULTI", "transaction()");
  expect_refused(shared({{"DISCARD"}}), "DISCARD without its MULTI", "transaction()");
  expect_refused(shared({{"WATCH", "k"}}), "WATCH needs a connection of its own", "client.lease()");
  expect_refused(shared({{"MULTI"}, {"WATCH", "k"}, {"EXEC"}}), "WATCH", "client.lease()");
  // A Lease holds WATCH ... MULTI ... EXEC over several requests: that is what it is for.
  EXPECT_FALSE(exclusive({{"WATCH", "k"}}));
  EXPECT_FALSE(exclusive({{"MULTI"}}));
  EXPECT_FALSE(exclusive({{"EXEC"}}));
}

TEST(CommandPolicy, EveryCommandOfAPipelineIsLookedAt) {
  expect_refused(shared({{"GET", "a"}, {"SET", "b", "c"}, {"SELECT", "2"}}), "SELECT",
                 "RedisClient");
  expect_refused(exclusive({{"GET", "a"}, {"SUBSCRIBE", "ch"}}), "SUBSCRIBE", "Subscriber");
}

TEST(CommandPolicy, BytesThatAreNoCommandsAreLeftToTheServer) {
  EXPECT_FALSE(refusal("", ConnectionUse::shared));
  EXPECT_FALSE(refusal("*1\r\n$6\r\nSELECT", ConnectionUse::shared));  // cut short
  EXPECT_FALSE(refusal("PING\r\n", ConnectionUse::shared));
  EXPECT_FALSE(refusal("*1\r\n$99\r\nSELECT\r\n", ConnectionUse::shared));
}

}  // namespace
}  // namespace asyncredis::detail
