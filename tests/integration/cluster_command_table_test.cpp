// The cluster command table read from a real redis-server's COMMAND reply: the whole table
// parses, and the key positions key_indexes() finds are the keys the server itself names with
// COMMAND GETKEYS, for a set of real commands and for every command of the server.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/sync_client.hpp"
#include "cluster/command_table.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using detail::CommandInfo;
using detail::CommandTable;
using detail::RequestPolicy;
using detail::ResponsePolicy;

class ClusterCommandTableTest : public test::SharedServerTest {
 protected:
  static void SetUpTestSuite() {
    SharedServerTest::SetUpTestSuite();
    SyncClient redis(server_->settings());
    reply_ = new Reply(redis.command<Reply>("COMMAND"));
    table_ = new CommandTable(CommandTable::parse(*reply_));
  }
  static void TearDownTestSuite() {
    delete table_;
    delete reply_;
    SharedServerTest::TearDownTestSuite();
  }

  static const CommandInfo& info(const std::vector<std::string_view>& args) {
    const CommandInfo* found = table_->find(args);
    if (found == nullptr) throw std::runtime_error("no command " + std::string(args.at(0)));
    return *found;
  }

  // The keys key_indexes() finds in `args` (their texts, sorted); false when it cannot tell.
  static bool our_keys(const std::vector<std::string>& args, std::vector<std::string>& keys) {
    const std::vector<std::string_view> views(args.begin(), args.end());
    std::vector<std::size_t> indexes;
    if (!info(views).key_indexes(views, indexes)) return false;
    for (const std::size_t i : indexes) keys.push_back(args.at(i));
    std::sort(keys.begin(), keys.end());
    return true;
  }

  // COMMAND GETKEYS `args`, sorted; false when the server refuses it (an error reply, which is
  // also how it answers a command without keys: then `keys` is empty).
  static bool server_keys(SyncClient& redis, const std::vector<std::string>& args,
                          std::vector<std::string>& keys) {
    const Reply reply = redis.command<Reply>("COMMAND", "GETKEYS", args);
    if (reply.is_error()) return reply.str().find("no key arguments") != std::string::npos;
    for (const Reply& key : reply.elements()) keys.push_back(key.str());
    std::sort(keys.begin(), keys.end());
    return true;
  }

  static inline Reply* reply_ = nullptr;
  static inline CommandTable* table_ = nullptr;
};

TEST_F(ClusterCommandTableTest, TheWholeTableParses) {
  SyncClient redis(server_->settings());
  EXPECT_EQ(static_cast<long long>(table_->size()), redis.command<long long>("COMMAND", "COUNT"));
  // Every entry is found by its name, every subcommand under its container.
  std::size_t subcommands = 0;
  for (const Reply& entry : reply_->elements()) {
    const std::string& name = entry.elements().at(0).str();
    const std::vector<std::string_view> args = {name};
    EXPECT_NE(table_->find(args), nullptr) << name;
    for (const Reply& sub : entry.elements().at(9).elements()) {
      const std::string& full = sub.elements().at(0).str();
      const std::vector<std::string_view> sub_args = {
          name, std::string_view(full).substr(name.size() + 1)};
      EXPECT_NE(table_->find(sub_args), nullptr) << full;
      ++subcommands;
    }
  }
  EXPECT_GT(subcommands, 50u);
}

TEST_F(ClusterCommandTableTest, KeysOfRealCommandsAreTheServersKeys) {
  SyncClient redis(server_->settings());
  const std::vector<std::vector<std::string>> commands = {
      {"GET", "k1"},
      {"SET", "k1", "v", "EX", "10"},
      {"MGET", "k1", "k2", "k3"},
      {"DEL", "k1", "k2"},
      {"MSET", "k1", "v1", "k2", "v2", "k3", "v3"},
      {"EVAL", "return 1", "2", "k1", "k2", "a1", "a2"},
      {"EVAL", "return 1", "0", "a1"},
      {"EVALSHA_RO", "0123456789012345678901234567890123456789", "1", "k1"},
      {"FCALL", "f", "2", "k1", "k2", "a1"},
      {"ZUNIONSTORE", "dst", "2", "k1", "k2", "WEIGHTS", "1", "2"},
      {"ZUNION", "2", "k1", "k2", "WITHSCORES"},
      {"ZINTERCARD", "2", "k1", "k2", "LIMIT", "5"},
      {"LMPOP", "2", "k1", "k2", "LEFT"},
      {"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"},
      {"XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", "s2", ">", ">"},
      {"MIGRATE", "127.0.0.1", "1", "k1", "0", "5000"},
      {"MIGRATE", "127.0.0.1", "1", "", "0", "5000", "COPY", "KEYS", "k1", "k2"},
      {"MIGRATE", "127.0.0.1", "1", "", "0", "5000", "AUTH", "pw", "KEYS", "k1"},
      {"SORT", "k1"},
      {"SORT", "k1", "BY", "w_*", "LIMIT", "0", "5", "GET", "o_*", "STORE", "dst"},
      {"SORT_RO", "k1", "BY", "w_*"},
      {"LMOVE", "src", "dst", "LEFT", "RIGHT"},
      {"GEORADIUS", "k1", "0", "0", "10", "km", "STORE", "dst"},
      {"GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "0", "0", "BYRADIUS", "10", "km"},
      {"BITOP", "AND", "dst", "k1", "k2"},
      {"OBJECT", "ENCODING", "k1"},
      {"XINFO", "STREAM", "s1"},
      {"MEMORY", "USAGE", "k1"},
      {"PING", "hello"},
      {"FLUSHDB", "ASYNC"},
      {"SCRIPT", "LOAD", "return 1"},
  };
  for (const std::vector<std::string>& args : commands) {
    std::vector<std::string> ours;
    std::vector<std::string> theirs;
    ASSERT_TRUE(server_keys(redis, args, theirs)) << args[0];
    ASSERT_TRUE(our_keys(args, ours)) << args[0];
    EXPECT_EQ(ours, theirs) << args[0] << " " << (args.size() > 1 ? args[1] : "");
  }
}

// Each command (and subcommand) of the server called with its arity's worth of distinct
// arguments: wherever the server names keys, key_indexes() names the same.
TEST_F(ClusterCommandTableTest, KeysOfEveryCommandAreTheServersKeys) {
  SyncClient redis(server_->settings());
  std::size_t compared = 0;
  const auto check = [&](const Reply& entry, std::vector<std::string> args) {
    const long long arity = entry.elements().at(1).integer();
    const std::size_t count = static_cast<std::size_t>(arity < 0 ? -arity + 2 : arity);
    for (std::size_t i = args.size(); i < count; ++i) args.push_back("a" + std::to_string(i));
    std::vector<std::string> theirs;
    if (!server_keys(redis, args, theirs)) return;  // arguments the server rejects
    std::vector<std::string> ours;
    if (our_keys(args, ours)) {
      EXPECT_EQ(ours, theirs) << args[0] << " with " << args.size() << " arguments";
      ++compared;
    } else {
      // Refused (a keynum that is no number, as "a2" is): only where the server, which reads
      // it as 0, finds no key either, so the refusal never hides a key.
      EXPECT_TRUE(theirs.empty()) << args[0] << " refused, but the server found keys";
    }
  };
  for (const Reply& entry : reply_->elements()) {
    const std::string& name = entry.elements().at(0).str();
    const std::vector<Reply>& subs = entry.elements().at(9).elements();
    if (subs.empty()) check(entry, {name});
    for (const Reply& sub : subs) {
      const std::string& full = sub.elements().at(0).str();
      check(sub, {name, full.substr(name.size() + 1)});
    }
  }
  EXPECT_GT(compared, 300u);  // 313 on redis-server 7.0.15
}

TEST_F(ClusterCommandTableTest, TipsAndFlagsOfRealCommands) {
  EXPECT_EQ(info({"GET"}).request_policy(), RequestPolicy::keyed);
  EXPECT_TRUE(info({"GET"}).readonly());
  EXPECT_FALSE(info({"SET"}).readonly());
  EXPECT_EQ(info({"MGET"}).request_policy(), RequestPolicy::multi_shard);
  EXPECT_EQ(info({"MSET"}).response_policy(), ResponsePolicy::all_succeeded);
  EXPECT_EQ(info({"DEL"}).response_policy(), ResponsePolicy::agg_sum);
  EXPECT_EQ(info({"FLUSHDB"}).request_policy(), RequestPolicy::all_shards);
  EXPECT_EQ(info({"DBSIZE"}).request_policy(), RequestPolicy::all_shards);
  EXPECT_EQ(info({"DBSIZE"}).response_policy(), ResponsePolicy::agg_sum);
  EXPECT_TRUE(info({"DBSIZE"}).readonly());
  // COMMAND GETKEYS cannot be asked about a command without arguments: no keys.
  for (const std::string name : {"DBSIZE", "PING", "FLUSHALL"}) {
    std::vector<std::string> keys;
    EXPECT_TRUE(our_keys({name}, keys)) << name;
    EXPECT_TRUE(keys.empty()) << name;
  }
  EXPECT_EQ(info({"SCRIPT", "LOAD"}).request_policy(), RequestPolicy::all_nodes);
  EXPECT_EQ(info({"SCRIPT", "KILL"}).response_policy(), ResponsePolicy::one_succeeded);
  EXPECT_EQ(info({"SCRIPT", "EXISTS"}).response_policy(), ResponsePolicy::agg_logical_and);
  EXPECT_EQ(info({"KEYS"}).request_policy(), RequestPolicy::all_shards);
  EXPECT_TRUE(info({"XINFO", "STREAM"}).readonly());
}

}  // namespace
}  // namespace asyncredis
