// The command table from COMMAND replies shaped as redis-server 7.0 sends them over RESP2
// (copied from redis-cli COMMAND INFO), and as servers before 7 did (no tips, no key
// specifications): lookup, policies, flags, key positions, and protocol_error for every
// malformed part.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/error.hpp"
#include "cluster/command_table.hpp"

namespace asyncredis::detail {
namespace {

Reply str(std::string text) {
  return Reply::bulk_string(std::move(text));
}
Reply status(std::string text) {
  return Reply::simple_string(std::move(text));
}
Reply num(std::int64_t value) {
  return Reply::integer(value);
}
Reply arr(std::vector<Reply> elements) {
  return Reply::array(std::move(elements));
}

Reply strings(const std::vector<std::string>& items, bool as_status = false) {
  std::vector<Reply> out;
  for (const std::string& item : items) out.push_back(as_status ? status(item) : str(item));
  return arr(std::move(out));
}

Reply spec(Reply begin, Reply find, std::vector<std::string> flags = {"RO", "access"}) {
  return arr({str("flags"), strings(flags, true), str("begin_search"), std::move(begin),
              str("find_keys"), std::move(find)});
}
Reply at_index(std::int64_t index) {
  return arr({str("type"), str("index"), str("spec"), arr({str("index"), num(index)})});
}
Reply after_keyword(std::string keyword, std::int64_t startfrom) {
  return arr({str("type"), str("keyword"), str("spec"),
              arr({str("keyword"), str(std::move(keyword)), str("startfrom"), num(startfrom)})});
}
Reply range(std::int64_t lastkey, std::int64_t keystep, std::int64_t limit) {
  return arr({str("type"), str("range"), str("spec"),
              arr({str("lastkey"), num(lastkey), str("keystep"), num(keystep), str("limit"),
                   num(limit)})});
}
Reply keynum(std::int64_t keynumidx, std::int64_t firstkey, std::int64_t keystep) {
  return arr({str("type"), str("keynum"), str("spec"),
              arr({str("keynumidx"), num(keynumidx), str("firstkey"), num(firstkey), str("keystep"),
                   num(keystep)})});
}
Reply unknown() {
  return arr({str("type"), str("unknown"), str("spec"), arr({})});
}

struct Entry {
  std::string name;
  std::int64_t arity = -2;
  std::vector<std::string> flags;
  std::int64_t first = 0, last = 0, step = 0;
  std::vector<std::string> tips;
  std::vector<Reply> specs;
  std::vector<Reply> subcommands;
};

Reply entry(const Entry& e) {
  return arr({str(e.name), num(e.arity), strings(e.flags, true), num(e.first), num(e.last),
              num(e.step), strings({"@slow"}), strings(e.tips), arr(e.specs), arr(e.subcommands)});
}

// A Redis 7.0 table with the commands the cluster client must get right.
Reply redis7_command() {
  const Reply one_key = spec(at_index(1), range(0, 1, 0));
  return arr({
      entry({"get", 2, {"readonly", "fast"}, 1, 1, 1, {}, {one_key}, {}}),
      entry({"mget",
             -2,
             {"readonly", "fast"},
             1,
             -1,
             1,
             {"request_policy:multi_shard"},
             {spec(at_index(1), range(-1, 1, 0))},
             {}}),
      entry({"del",
             -2,
             {"write"},
             1,
             -1,
             1,
             {"request_policy:multi_shard", "response_policy:agg_sum"},
             {spec(at_index(1), range(-1, 1, 0), {"RM", "delete"})},
             {}}),
      entry({"mset",
             -3,
             {"write", "denyoom"},
             1,
             -1,
             2,
             {"request_policy:multi_shard", "response_policy:all_succeeded"},
             {spec(at_index(1), range(-1, 2, 0), {"OW", "update"})},
             {}}),
      entry({"eval",
             -3,
             {"noscript", "movablekeys"},
             0,
             0,
             0,
             {},
             {spec(at_index(2), keynum(0, 1, 1), {"RW", "access", "update"})},
             {}}),
      entry({"zunionstore",
             -4,
             {"write", "movablekeys"},
             1,
             1,
             1,
             {},
             {spec(at_index(1), range(0, 1, 0), {"OW", "update"}),
              spec(at_index(2), keynum(0, 1, 1))},
             {}}),
      entry({"xread",
             -4,
             {"readonly", "blocking", "movablekeys"},
             0,
             0,
             0,
             {},
             {spec(after_keyword("STREAMS", 1), range(-1, 1, 2))},
             {}}),
      entry({"migrate",
             -6,
             {"write", "movablekeys"},
             3,
             3,
             1,
             {"nondeterministic_output"},
             {spec(at_index(3), range(0, 1, 0), {"RW", "access", "delete"}),
              spec(after_keyword("KEYS", -2), range(-1, 1, 0),
                   {"RW", "access", "delete", "incomplete"})},
             {}}),
      entry({"sort",
             -2,
             {"write", "denyoom", "movablekeys"},
             1,
             1,
             1,
             {},
             {one_key, spec(unknown(), unknown()), spec(unknown(), unknown(), {"OW", "update"})},
             {}}),
      entry({"sort_ro",
             -2,
             {"readonly", "movablekeys"},
             1,
             1,
             1,
             {},
             {one_key, spec(unknown(), unknown())},
             {}}),
      entry({"ping",
             -1,
             {"fast"},
             0,
             0,
             0,
             {"request_policy:all_shards", "response_policy:all_succeeded"},
             {},
             {}}),
      entry({"flushdb",
             -1,
             {"write"},
             0,
             0,
             0,
             {"request_policy:all_shards", "response_policy:all_succeeded"},
             {},
             {}}),
      entry({"dbsize",
             1,
             {"readonly", "fast"},
             0,
             0,
             0,
             {"request_policy:all_shards", "response_policy:agg_sum"},
             {},
             {}}),
      entry({"script",
             -2,
             {},
             0,
             0,
             0,
             {},
             {},
             {entry({"script|load",
                     3,
                     {"noscript", "stale"},
                     0,
                     0,
                     0,
                     {"request_policy:all_nodes", "response_policy:all_succeeded"},
                     {},
                     {}}),
              entry({"script|kill",
                     2,
                     {"noscript"},
                     0,
                     0,
                     0,
                     {"request_policy:all_shards", "response_policy:one_succeeded"},
                     {},
                     {}})}}),
      entry({"xinfo",
             -2,
             {},
             0,
             0,
             0,
             {},
             {},
             {entry({"xinfo|stream",
                     -3,
                     {"readonly"},
                     2,
                     2,
                     1,
                     {},
                     {spec(at_index(2), range(0, 1, 0))},
                     {}})}}),
      // What a later server might send: policies and a key search this version does not know.
      entry({"future",
             -2,
             {"readonly"},
             0,
             0,
             0,
             {"request_policy:by_moon_phase", "response_policy:agg_median"},
             {spec(arr({str("type"), str("regex"), str("spec"), arr({})}), range(0, 1, 0))},
             {}}),
      Reply::nil(),  // COMMAND INFO's answer for a name it does not know: skipped
  });
}

const CommandTable& table() {
  static const CommandTable t = CommandTable::parse(redis7_command());
  return t;
}

// The key positions of `args`, or nullopt when key_indexes() says they cannot be told.
std::optional<std::vector<std::size_t>> keys_of(const CommandTable& t,
                                                std::vector<std::string_view> args) {
  const CommandInfo* info = t.find(args);
  if (info == nullptr) {
    ADD_FAILURE() << "unknown command " << args.at(0);
    return std::nullopt;
  }
  std::vector<std::size_t> out = {99};  // appended to, never cleared
  if (!info->key_indexes(args, out)) {
    EXPECT_EQ(out, std::vector<std::size_t>{99}) << "changed on failure";
    return std::nullopt;
  }
  EXPECT_EQ(out.at(0), 99u);
  out.erase(out.begin());
  return out;
}

using Keys = std::vector<std::size_t>;

TEST(ClusterCommandTable, FindsCommandsAndSubcommandsInAnyCase) {
  const CommandTable& t = table();
  EXPECT_EQ(t.size(), 16u);  // the nil entry is skipped, subcommands not counted
  const std::vector<std::string_view> get = {"get", "k"};
  const std::vector<std::string_view> upper = {"GET", "k"};
  const std::vector<std::string_view> mixed = {"gEt"};
  ASSERT_NE(t.find(get), nullptr);
  EXPECT_EQ(t.find(upper), t.find(get));
  EXPECT_EQ(t.find(mixed), t.find(get));
  const std::vector<std::string_view> nope = {"NOPE", "k"};
  EXPECT_EQ(t.find(nope), nullptr);
  EXPECT_EQ(t.find(std::span<const std::string_view>()), nullptr);
  const std::vector<std::string_view> getx = {"GETX"};
  EXPECT_EQ(t.find(getx), nullptr);

  const std::vector<std::string_view> load = {"SCRIPT", "LOAD", "return 1"};
  const std::vector<std::string_view> load_lower = {"script", "Load", "return 1"};
  const std::vector<std::string_view> kill = {"SCRIPT", "KILL"};
  const std::vector<std::string_view> bad = {"SCRIPT", "NOPE"};
  const std::vector<std::string_view> alone = {"SCRIPT"};
  const std::vector<std::string_view> pipe_name = {"SCRIPT|LOAD", "x"};
  ASSERT_NE(t.find(load), nullptr);
  EXPECT_EQ(t.find(load_lower), t.find(load));
  EXPECT_NE(t.find(kill), t.find(load));
  EXPECT_EQ(t.find(bad), nullptr);
  ASSERT_NE(t.find(alone), nullptr);
  EXPECT_EQ(t.find(alone)->request_policy(), RequestPolicy::keyed);
  EXPECT_EQ(t.find(pipe_name), nullptr);
}

TEST(ClusterCommandTable, PoliciesFromTheTips) {
  const CommandTable& t = table();
  const auto policies = [&](std::vector<std::string_view> args) {
    const CommandInfo* info = t.find(args);
    EXPECT_NE(info, nullptr) << args[0];
    return info == nullptr ? std::pair(RequestPolicy::special, ResponsePolicy::special)
                           : std::pair(info->request_policy(), info->response_policy());
  };
  using P = std::pair<RequestPolicy, ResponsePolicy>;
  EXPECT_EQ(policies({"GET", "k"}), P(RequestPolicy::keyed, ResponsePolicy::unspecified));
  EXPECT_EQ(policies({"MGET", "a"}), P(RequestPolicy::multi_shard, ResponsePolicy::unspecified));
  EXPECT_EQ(policies({"DEL", "a"}), P(RequestPolicy::multi_shard, ResponsePolicy::agg_sum));
  EXPECT_EQ(policies({"MSET", "a", "1"}),
            P(RequestPolicy::multi_shard, ResponsePolicy::all_succeeded));
  EXPECT_EQ(policies({"FLUSHDB"}), P(RequestPolicy::all_shards, ResponsePolicy::all_succeeded));
  EXPECT_EQ(policies({"DBSIZE"}), P(RequestPolicy::all_shards, ResponsePolicy::agg_sum));
  EXPECT_EQ(policies({"PING"}), P(RequestPolicy::all_shards, ResponsePolicy::all_succeeded));
  EXPECT_EQ(policies({"SCRIPT", "LOAD", "return 1"}),
            P(RequestPolicy::all_nodes, ResponsePolicy::all_succeeded));
  EXPECT_EQ(policies({"SCRIPT", "KILL"}),
            P(RequestPolicy::all_shards, ResponsePolicy::one_succeeded));
  EXPECT_EQ(policies({"MIGRATE"}), P(RequestPolicy::keyed, ResponsePolicy::unspecified));
  EXPECT_EQ(policies({"FUTURE"}), P(RequestPolicy::special, ResponsePolicy::special));
}

TEST(ClusterCommandTable, ReadonlyFromTheFlags) {
  const CommandTable& t = table();
  for (std::string_view name : {"GET", "MGET", "XREAD", "SORT_RO", "DBSIZE"}) {
    const std::vector<std::string_view> args = {name};
    EXPECT_TRUE(t.find(args)->readonly()) << name;
  }
  for (std::string_view name : {"DEL", "MSET", "EVAL", "SORT", "PING", "FLUSHDB"}) {
    const std::vector<std::string_view> args = {name};
    EXPECT_FALSE(t.find(args)->readonly()) << name;
  }
  const std::vector<std::string_view> xinfo = {"XINFO", "STREAM", "s"};
  EXPECT_TRUE(t.find(xinfo)->readonly());
}

TEST(ClusterCommandTable, KeysOfRangeSpecs) {
  const CommandTable& t = table();
  EXPECT_EQ(keys_of(t, {"GET", "k"}), Keys({1}));
  EXPECT_EQ(keys_of(t, {"GET"}), Keys());  // too short: the server refuses it
  EXPECT_EQ(keys_of(t, {"MGET", "a", "b", "c"}), Keys({1, 2, 3}));
  EXPECT_EQ(keys_of(t, {"DEL", "a", "b"}), Keys({1, 2}));
  EXPECT_EQ(keys_of(t, {"MSET", "k1", "v1", "k2", "v2"}), Keys({1, 3}));
  EXPECT_EQ(keys_of(t, {"MSET", "k1", "v1", "k2"}), Keys({1, 3}));
  EXPECT_EQ(keys_of(t, {"XINFO", "STREAM", "s", "FULL"}), Keys({2}));
  EXPECT_EQ(keys_of(t, {"PING"}), Keys());
  EXPECT_EQ(keys_of(t, {"PING", "hello"}), Keys());
  EXPECT_EQ(keys_of(t, {"FLUSHDB", "ASYNC"}), Keys());
  EXPECT_EQ(keys_of(t, {"SCRIPT", "LOAD", "return 1"}), Keys());
}

TEST(ClusterCommandTable, KeysOfKeynumSpecs) {
  const CommandTable& t = table();
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "2", "k1", "k2", "arg"}), Keys({3, 4}));
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "0", "arg"}), Keys());
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "x", "k1"}), std::nullopt);   // not a number
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "-1", "k1"}), std::nullopt);  // negative
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "2 ", "k1", "k2"}), std::nullopt);
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "3", "k1", "k2"}), std::nullopt);  // past the end
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "99999999999999999999", "k"}), std::nullopt);
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1"}), std::nullopt);  // no keynum at all
  // The destination, then the keynum's keys; options after them are no keys.
  EXPECT_EQ(keys_of(t, {"ZUNIONSTORE", "dst", "2", "a", "b", "WEIGHTS", "1", "2"}),
            Keys({1, 3, 4}));
}

TEST(ClusterCommandTable, KeysAfterAKeyword) {
  const CommandTable& t = table();
  EXPECT_EQ(keys_of(t, {"XREAD", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0"}), Keys({4, 5}));
  EXPECT_EQ(keys_of(t, {"xread", "streams", "s", "$"}), Keys({2}));
  // A stream named like the keyword: the first STREAMS counts.
  EXPECT_EQ(keys_of(t, {"XREAD", "STREAMS", "STREAMS", "x", "0", "0"}), Keys({2, 3}));
  EXPECT_EQ(keys_of(t, {"XREAD", "COUNT", "2"}), Keys());  // no keyword, no keys
}

TEST(ClusterCommandTable, KeysWhereRedisFallsBackToCode) {
  const CommandTable& t = table();
  EXPECT_EQ(keys_of(t, {"SORT", "k"}), Keys({1}));
  EXPECT_EQ(keys_of(t, {"SORT", "k", "BY", "w_*", "GET", "store", "STORE", "dst"}), Keys({1, 7}));
  EXPECT_EQ(keys_of(t, {"SORT", "k", "LIMIT", "0", "store", "ALPHA"}), Keys({1}));
  EXPECT_EQ(keys_of(t, {"sort", "k", "store", "a", "STORE", "b"}), Keys({1, 5}));  // the last
  EXPECT_EQ(keys_of(t, {"SORT_RO", "k", "STORE", "dst"}), Keys({1}));
  EXPECT_EQ(keys_of(t, {"MIGRATE", "h", "6379", "k", "0", "5000"}), Keys({3}));
  EXPECT_EQ(keys_of(t, {"MIGRATE", "h", "6379", "", "0", "5000", "KEYS", "a", "b"}), Keys({7, 8}));
  EXPECT_EQ(
      keys_of(t, {"MIGRATE", "h", "6379", "", "0", "5000", "COPY", "AUTH", "keys", "keys", "a"}),
      Keys({10}));
  EXPECT_EQ(
      keys_of(t, {"MIGRATE", "h", "6379", "", "0", "5000", "AUTH2", "u", "KEYS", "KEYS", "a"}),
      Keys({10}));
  // A spec of a type this version does not know, and no code for the command: unknowable.
  EXPECT_EQ(keys_of(t, {"FUTURE", "k"}), std::nullopt);
}

TEST(ClusterCommandTable, ServersBefore7UseFirstLastStep) {
  // Redis 6.2: [name, arity, flags, first, last, step, ACL categories].
  const Reply reply = arr({
      arr({str("get"), num(2), strings({"readonly", "fast"}, true), num(1), num(1), num(1),
           strings({"@read"})}),
      arr({str("mset"), num(-3), strings({"write"}, true), num(1), num(-1), num(2),
           strings({"@write"})}),
      arr({str("eval"), num(-3), strings({"noscript", "movablekeys"}, true), num(0), num(0), num(0),
           strings({"@scripting"})}),
      arr({str("ping"), num(-1), strings({"fast"}, true), num(0), num(0), num(0)}),  // Redis 5
  });
  const CommandTable t = CommandTable::parse(reply);
  EXPECT_EQ(t.size(), 4u);
  EXPECT_EQ(keys_of(t, {"GET", "k"}), Keys({1}));
  EXPECT_EQ(keys_of(t, {"MSET", "a", "1", "b", "2"}), Keys({1, 3}));
  EXPECT_EQ(keys_of(t, {"EVAL", "return 1", "1", "k"}), std::nullopt);  // movable: unknowable
  EXPECT_EQ(keys_of(t, {"PING"}), Keys());
  const std::vector<std::string_view> get = {"GET"};
  EXPECT_TRUE(t.find(get)->readonly());
  EXPECT_EQ(t.find(get)->request_policy(), RequestPolicy::keyed);
  EXPECT_EQ(t.find(get)->response_policy(), ResponsePolicy::unspecified);
}

void expect_protocol_error(const Reply& reply, const std::string& what) {
  try {
    (void)CommandTable::parse(reply);
    ADD_FAILURE() << what << ": accepted " << to_debug_string(reply);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::protocol_error)) << what;
    EXPECT_FALSE(e.message().empty()) << what;
  }
}

TEST(ClusterCommandTable, MalformedRepliesAreProtocolErrors) {
  const auto with_spec = [](Reply key_spec) {
    return arr({entry({"get", 2, {"readonly"}, 1, 1, 1, {}, {std::move(key_spec)}, {}})});
  };
  const auto with_sub = [](Reply sub) {
    return arr({entry({"script", -2, {}, 0, 0, 0, {}, {}, {std::move(sub)}})});
  };
  const Reply load = entry({"script|load", 3, {}, 0, 0, 0, {}, {}, {}});
  const std::vector<std::pair<std::string, Reply>> cases = {
      {"an error reply", Reply::error("ERR unknown command")},
      {"an entry that is a string", arr({str("get")})},
      {"a short entry", arr({arr({str("get"), num(2), arr({}), num(1), num(1)})})},
      {"an empty name", arr({entry({"", 2, {}, 1, 1, 1, {}, {}, {}})})},
      {"a name that is a number", arr({arr({num(1), num(2), arr({}), num(1), num(1), num(1)})})},
      {"arity as a string", arr({arr({str("get"), str("2"), arr({}), num(1), num(1), num(1)})})},
      {"flags not a list",
       arr({arr({str("get"), num(2), str("readonly"), num(1), num(1), num(1)})})},
      {"a flag that is a number",
       arr({arr({str("get"), num(2), arr({num(1)}), num(1), num(1), num(1)})})},
      {"a negative first key", arr({entry({"get", 2, {}, -1, 1, 1, {}, {}, {}})})},
      {"a step of 0 with keys", arr({entry({"get", 2, {}, 1, 1, 0, {}, {}, {}})})},
      {"a huge last key", arr({entry({"get", 2, {}, 1, std::int64_t{1} << 40, 1, {}, {}, {}})})},
      {"tips not a list",
       arr({arr({str("get"), num(2), arr({}), num(1), num(1), num(1), arr({}), num(3)})})},
      {"specs not a list", arr({arr({str("get"), num(2), arr({}), num(1), num(1), num(1), arr({}),
                                     arr({}), str("x")})})},
      {"subcommands not a list", arr({arr({str("get"), num(2), arr({}), num(1), num(1), num(1),
                                           arr({}), arr({}), arr({}), str("x")})})},
      {"a command twice", arr({entry({"get", 2, {}, 1, 1, 1, {}, {}, {}}),
                               entry({"GET", 2, {}, 1, 1, 1, {}, {}, {}})})},
      {"a spec that is no map", with_spec(arr({str("flags")}))},
      {"a spec with a numeric name", with_spec(arr({num(1), num(2)}))},
      {"a spec without find_keys",
       with_spec(arr({str("flags"), arr({}), str("begin_search"), at_index(1)}))},
      {"a spec without begin_search",
       with_spec(arr({str("flags"), arr({}), str("find_keys"), range(0, 1, 0)}))},
      {"spec flags not a list", with_spec(arr({str("flags"), str("RO"), str("begin_search"),
                                               at_index(1), str("find_keys"), range(0, 1, 0)}))},
      {"index 0", with_spec(spec(at_index(0), range(0, 1, 0)))},
      {"index as a string",
       with_spec(spec(arr({str("type"), str("index"), str("spec"), arr({str("index"), str("1")})}),
                      range(0, 1, 0)))},
      {"index without spec", with_spec(spec(arr({str("type"), str("index")}), range(0, 1, 0)))},
      {"index spec empty",
       with_spec(spec(arr({str("type"), str("index"), str("spec"), arr({})}), range(0, 1, 0)))},
      {"begin_search not a map", with_spec(spec(str("index"), range(0, 1, 0)))},
      {"an empty keyword", with_spec(spec(after_keyword("", 1), range(-1, 1, 0)))},
      {"a keyword without startfrom", with_spec(spec(arr({str("type"), str("keyword"), str("spec"),
                                                          arr({str("keyword"), str("STREAMS")})}),
                                                     range(-1, 1, 0)))},
      {"keystep 0", with_spec(spec(at_index(1), range(0, 0, 0)))},
      {"a negative limit", with_spec(spec(at_index(1), range(-1, 1, -2)))},
      {"a huge lastkey", with_spec(spec(at_index(1), range(std::int64_t{1} << 40, 1, 0)))},
      {"range without limit",
       with_spec(spec(at_index(1), arr({str("type"), str("range"), str("spec"),
                                        arr({str("lastkey"), num(0), str("keystep"), num(1)})})))},
      {"a negative keynumidx", with_spec(spec(at_index(1), keynum(-1, 1, 1)))},
      {"keynum keystep 0", with_spec(spec(at_index(1), keynum(0, 1, 0)))},
      {"a subcommand of another command",
       with_sub(entry({"config|get", 3, {}, 0, 0, 0, {}, {}, {}}))},
      {"a subcommand without its name", with_sub(entry({"script|", 3, {}, 0, 0, 0, {}, {}, {}}))},
      {"a subcommand named like its command",
       with_sub(entry({"script", 3, {}, 0, 0, 0, {}, {}, {}}))},
      {"a subcommand twice", arr({entry({"script", -2, {}, 0, 0, 0, {}, {}, {load, load}})})},
      {"a subcommand with subcommands",
       with_sub(entry({"script|load", 3, {}, 0, 0, 0, {}, {}, {load}}))},
      {"a malformed subcommand", with_sub(arr({str("script|load"), num(3)}))},
  };
  for (const auto& [what, reply] : cases) expect_protocol_error(reply, what);
}

}  // namespace
}  // namespace asyncredis::detail
