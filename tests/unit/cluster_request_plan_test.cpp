// The cluster planner with redis-server 7.0's real command table: commands go whole to their
// keys' slot, multi-key commands across slots are split (arguments that follow a key stay
// with it) and merged back in the caller's order, commands for every shard fan out, and what
// needs one slot is refused with cross_slot naming the keys. Also the redirect parser.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "cluster/command_table.hpp"
#include "cluster/redirect.hpp"
#include "cluster/request_plan.hpp"
#include "cluster/slot.hpp"
#include "protocol/command_reader.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {
namespace {

const CommandTable& real_table() {
  static const CommandTable table = [] {
    const auto path =
        std::filesystem::path(ASYNCREDIS_TEST_FIXTURES) / "command_reply_redis7.0.resp";
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ReplyReader reader;
    reader.feed(bytes.data(), bytes.size());
    Reply reply;
    if (reader.next(reply) != ReplyReader::Status::reply) throw std::runtime_error("fixture");
    return CommandTable::parse(reply);
  }();
  return table;
}

template <class... Args>
Request command(const Args&... args) {
  Request request;
  encode_command(request.payload, args...);
  return request;
}

// plan_request() on a copy of `request` (it may take the payload).
Plan plan_of(Request request, std::size_t shards = 3) {
  return plan_request(request, real_table(), shards);
}

std::vector<std::string> args_of(const Piece& piece) {
  CommandReader reader(piece.payload);
  std::vector<std::string_view> args;
  EXPECT_TRUE(reader.next(args));
  return {args.begin(), args.end()};
}

// Two keys in different slots, and a third in the first one's slot.
const std::string kA = "{a}:1", kB = "{b}:1", kA2 = "{a}:2";

TEST(ClusterPlan, AOneKeyCommandGoesWholeToItsSlot) {
  const Request request = command("GET", "user:42");
  const Plan plan = plan_of(request, 3);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].payload, request.payload);
  EXPECT_EQ(plan.pieces[0].target.kind, Target::Kind::slot);
  EXPECT_EQ(plan.pieces[0].target.value, slot_of("user:42"));
  EXPECT_TRUE(plan.pieces[0].readonly);
  EXPECT_FALSE(plan_of(command("SET", "k", "v"), 3).pieces[0].readonly);
}

TEST(ClusterPlan, KeyPositionsComeFromTheServersTable) {
  // The key of XREAD is after STREAMS; of EVAL, counted by numkeys; of ZUNIONSTORE, dest too.
  Plan xread = plan_of(command("XREAD", "COUNT", 2, "STREAMS", "s1", "0"), 3);
  EXPECT_EQ(xread.pieces[0].target.value, slot_of("s1"));
  Plan eval = plan_of(command("EVAL", "return 1", 1, "k1", "arg"), 3);
  EXPECT_EQ(eval.pieces[0].target.value, slot_of("k1"));
  EXPECT_THROW(plan_of(command("ZUNIONSTORE", kA, 1, kB), 3), Error);
  Plan keyless = plan_of(command("EVAL", "return 1", 0), 3);
  EXPECT_EQ(keyless.pieces[0].target.kind, Target::Kind::any);
}

TEST(ClusterPlan, MsetAcrossSlotsIsSplitWithEachValueBesideItsKey) {
  const Plan plan = plan_of(command("MSET", kA, "1", kB, "2", kA2, "3"), 3);
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_EQ(args_of(plan.pieces[0]), (std::vector<std::string>{"MSET", kA, "1", kA2, "3"}));
  EXPECT_EQ(args_of(plan.pieces[1]), (std::vector<std::string>{"MSET", kB, "2"}));
  EXPECT_EQ(plan.commands[0].merge, ReplyMerge::all_ok);
}

TEST(ClusterPlan, MgetRepliesComeBackInTheCallersOrder) {
  const Plan plan = plan_of(command("MGET", kA, kB, kA2), 3);
  ASSERT_EQ(plan.pieces.size(), 2u);
  EXPECT_EQ(plan.commands[0].merge, ReplyMerge::by_position);
  PieceReplies replies = {
      Reply::array({Reply::bulk_string("a1"), Reply::nil()}),
      Reply::array({Reply::bulk_string("b1")}),
  };
  const Reply merged = merge_replies(plan.commands[0], plan.pieces, replies);
  EXPECT_EQ(merged,
            Reply::array({Reply::bulk_string("a1"), Reply::bulk_string("b1"), Reply::nil()}));
  PieceReplies failed = {Reply::array({Reply::nil(), Reply::nil()}), Reply::error("MOVED 1 h:1")};
  EXPECT_TRUE(merge_replies(plan.commands[0], plan.pieces, failed).is_error());
}

TEST(ClusterPlan, CountsAreSummed) {
  for (const char* name : {"DEL", "UNLINK", "EXISTS", "TOUCH"}) {
    const Plan plan = plan_of(command(name, kA, kB, kA2), 3);
    ASSERT_EQ(plan.pieces.size(), 2u) << name;
    PieceReplies replies = {Reply::integer(2), Reply::integer(1)};
    EXPECT_EQ(merge_replies(plan.commands[0], plan.pieces, replies), Reply::integer(3)) << name;
  }
}

TEST(ClusterPlan, CommandsForEveryShardFanOutAndMerge) {
  const Plan dbsize = plan_of(command("DBSIZE"), 3);
  ASSERT_EQ(dbsize.pieces.size(), 3u);
  for (std::uint16_t i = 0; i < 3; ++i) {
    EXPECT_EQ(dbsize.pieces[i].target.kind, Target::Kind::shard);
    EXPECT_EQ(dbsize.pieces[i].target.value, i);
  }
  PieceReplies sizes = {Reply::integer(1), Reply::integer(2), Reply::integer(3)};
  EXPECT_EQ(merge_replies(dbsize.commands[0], dbsize.pieces, sizes), Reply::integer(6));

  const Plan flush = plan_of(command("FLUSHDB"), 3);
  PieceReplies oks = {Reply::simple_string("OK"), Reply::error("ERR no"),
                      Reply::simple_string("OK")};
  EXPECT_EQ(merge_replies(flush.commands[0], flush.pieces, oks), Reply::error("ERR no"));

  const Plan exists = plan_of(command("SCRIPT", "EXISTS", "a", "b"), 2);
  ASSERT_EQ(exists.pieces.size(), 2u);
  PieceReplies known = {Reply::array({Reply::integer(1), Reply::integer(1)}),
                        Reply::array({Reply::integer(1), Reply::integer(0)})};
  EXPECT_EQ(merge_replies(exists.commands[0], exists.pieces, known),
            Reply::array({Reply::integer(1), Reply::integer(0)}));

  const Plan keys = plan_of(command("KEYS", "*"), 2);
  PieceReplies found = {Reply::array({Reply::bulk_string("x")}),
                        Reply::array({Reply::bulk_string("y")})};
  EXPECT_EQ(merge_replies(keys.commands[0], keys.pieces, found),
            Reply::array({Reply::bulk_string("x"), Reply::bulk_string("y")}));
  // A reply the server calls special (INFO) has no merge: one node answers.
  EXPECT_EQ(plan_of(command("INFO"), 3).pieces.size(), 1u);
}

TEST(ClusterPlan, PipelinesKeepOneEntryPerCommandInOrder) {
  Request request;
  encode_command(request.payload, "SET", kA, "1");
  encode_command(request.payload, "MGET", kA, kB);
  encode_command(request.payload, "GET", kB);
  request.reply_count = 3;
  request.deliver = Deliver::array;
  const Plan plan = plan_of(request, 3);
  ASSERT_EQ(plan.commands.size(), 3u);
  ASSERT_EQ(plan.pieces.size(), 4u);
  EXPECT_EQ(plan.commands[1].first_piece, 1u);
  EXPECT_EQ(plan.commands[1].piece_count, 2u);
  EXPECT_EQ(plan.commands[2].first_piece, 3u);
  EXPECT_EQ(args_of(plan.pieces[3]), (std::vector<std::string>{"GET", kB}));
}

TEST(ClusterPlan, TransactionsAndScriptsAcrossSlotsAreRefusedNamingTheKeys) {
  Request tx;
  encode_command(tx.payload, "MULTI");
  encode_command(tx.payload, "SET", kA, "1");
  encode_command(tx.payload, "SET", kB, "2");
  encode_command(tx.payload, "EXEC");
  tx.reply_count = 4;
  tx.deliver = Deliver::last;
  try {
    plan_of(tx, 3);
    ADD_FAILURE() << "planned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::cross_slot);
    EXPECT_NE(e.message().find("'" + kA + "' is in slot " + std::to_string(slot_of(kA))),
              std::string::npos)
        << e.message();
    EXPECT_NE(e.message().find(kB), std::string::npos) << e.message();
  }
  Request one_slot;
  encode_command(one_slot.payload, "MULTI");
  encode_command(one_slot.payload, "SET", kA, "1");
  encode_command(one_slot.payload, "INCR", kA2);
  encode_command(one_slot.payload, "EXEC");
  one_slot.reply_count = 4;
  one_slot.deliver = Deliver::last;
  const Plan plan = plan_of(one_slot, 3);
  EXPECT_TRUE(plan.transaction);
  ASSERT_EQ(plan.pieces.size(), 1u);
  EXPECT_EQ(plan.pieces[0].payload, one_slot.payload);
  EXPECT_EQ(plan.pieces[0].reply_count, 4u);
  EXPECT_EQ(plan.pieces[0].target.value, slot_of(kA));

  // A pipeline holding MULTI ... EXEC is not split either.
  Request pipeline;
  encode_command(pipeline.payload, "GET", kA);
  encode_command(pipeline.payload, "MULTI");
  encode_command(pipeline.payload, "INCR", kA2);
  encode_command(pipeline.payload, "EXEC");
  pipeline.reply_count = 4;
  pipeline.deliver = Deliver::array;
  const Plan whole = plan_of(pipeline, 3);
  EXPECT_TRUE(whole.transaction);
  ASSERT_EQ(whole.pieces.size(), 1u);
  EXPECT_EQ(whole.pieces[0].reply_count, 4u);
  encode_command(pipeline.payload, "GET", kB);
  pipeline.reply_count = 5;
  EXPECT_THROW(plan_of(pipeline, 3), Error);

  try {
    plan_of(command("EVALSHA", "0123", 2, kA, kB), 3);
    ADD_FAILURE() << "planned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::cross_slot);
  }
}

TEST(ClusterPlan, UnreadableRequestsAndKeyCountsAreRefused) {
  try {
    plan_of(command("EVAL", "return 1", "many", "k"), 3);
    ADD_FAILURE() << "planned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_NE(e.message().find("EVAL"), std::string::npos) << e.message();
  }
  Request two_replies = command("GET", "k");
  two_replies.reply_count = 2;
  EXPECT_THROW(plan_of(two_replies, 3), Error);
  Request garbage;
  garbage.payload = "GET k\r\n";
  EXPECT_THROW(plan_of(garbage, 3), Error);
}

TEST(ClusterPlan, ScanWalksTheMastersOneAfterAnother) {
  const auto step = [](const std::string& cursor, const std::string& node_next) {
    const Plan plan = plan_of(command("SCAN", cursor, "MATCH", "a*", "COUNT", 10), 3);
    EXPECT_EQ(plan.pieces.size(), 1u);
    PieceReplies replies = {
        Reply::array({Reply::bulk_string(node_next), Reply::array({Reply::bulk_string("a1")})})};
    return std::make_pair(plan, merge_replies(plan.commands[0], plan.pieces, replies));
  };
  auto [first, first_reply] = step("0", "17");
  EXPECT_EQ(first.pieces[0].target.kind, Target::Kind::shard);
  EXPECT_EQ(first.pieces[0].target.value, 0);
  EXPECT_EQ(args_of(first.pieces[0]),
            (std::vector<std::string>{"SCAN", "0", "MATCH", "a*", "COUNT", "10"}));
  EXPECT_EQ(first_reply.elements()[0].str(), "0:17");
  auto [second, second_reply] = step("0:17", "0");
  EXPECT_EQ(args_of(second.pieces[0])[1], "17");
  EXPECT_EQ(second_reply.elements()[0].str(), "1:0");  // on to the next master
  auto [last, last_reply] = step("2:0", "0");
  EXPECT_EQ(last.pieces[0].target.value, 2);
  EXPECT_EQ(last_reply.elements()[0].str(), "0");  // the walk is over
  EXPECT_EQ(last_reply.elements()[1], Reply::array({Reply::bulk_string("a1")}));
  for (const char* bad : {"17", "3:0", "x:1", "1:", ":5"}) {
    try {
      plan_of(command("SCAN", bad), 3);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << bad;
    }
  }
}

TEST(ClusterRedirect, MovedAndAskAreRead) {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381", "seed");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->kind, Redirect::Kind::moved);
  EXPECT_EQ(moved->slot, 3999);
  EXPECT_EQ(moved->target, (NodeAddress{"127.0.0.1", 6381}));
  auto ask = parse_redirect("ASK 12 redis-3.example:7000", "seed");
  ASSERT_TRUE(ask);
  EXPECT_EQ(ask->kind, Redirect::Kind::ask);
  EXPECT_EQ(ask->target, (NodeAddress{"redis-3.example", 7000}));
  // No host: the node that answered. IPv6, with or without brackets.
  EXPECT_EQ(parse_redirect("MOVED 1 :7001", "10.0.0.5")->target, (NodeAddress{"10.0.0.5", 7001}));
  EXPECT_EQ(parse_redirect("MOVED 1 ::1:7001", "x")->target, (NodeAddress{"::1", 7001}));
  EXPECT_EQ(parse_redirect("MOVED 1 [::1]:7001", "x")->target, (NodeAddress{"::1", 7001}));
  for (const char* bad : {"MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h", "MOVED 1 h:0",
                          "MOVED 1 h:70000", "ASK 1", "ERR MOVED 1 h:1", "MOVED 1 h:1x"}) {
    EXPECT_FALSE(parse_redirect(bad, "seed")) << bad;
  }
  EXPECT_TRUE(says_try_later("TRYAGAIN Multiple keys request during rehashing of slot"));
  EXPECT_TRUE(says_try_later("CLUSTERDOWN The cluster is down"));
  EXPECT_FALSE(says_try_later("ERR TRYAGAIN"));
}

}  // namespace
}  // namespace asyncredis::detail
