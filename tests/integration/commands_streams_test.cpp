// Stream commands (entries, reads, consumer groups) against a real redis-server.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::use_awaitable;
namespace asio = boost::asio;
using Fields = std::vector<std::pair<std::string, std::string>>;
using Streams = std::vector<std::pair<std::string, std::string>>;

class StreamCommandsTest : public test::CommandsTest {};

TEST_F(StreamCommandsTest, AddRangeLengthKeepFieldOrder) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Fields fields = {{"z", "1"}, {"a", "2"}};  // not alphabetical: order is kept
    const XAddOptions first{.id = "1-0"};
    EXPECT_EQ(co_await c.xadd("s", fields, first, use_awaitable), "1-0");
    const Fields second_fields = {{"k", "v"}};
    const XAddOptions second{.id = "2-0"};
    co_await c.xadd("s", second_fields, second, use_awaitable);
    const XAddOptions generated;
    auto id = co_await c.xadd("s", second_fields, generated, use_awaitable);
    EXPECT_NE(id.find('-'), std::string::npos) << id;
    EXPECT_EQ(co_await c.xlen("s", use_awaitable), 3);
    const XRangeOptions all;
    auto entries = co_await c.xrange("s", all, use_awaitable);
    CO_ASSERT_EQ(entries.size(), 3u)
    EXPECT_EQ(entries[0], (StreamEntry{"1-0", fields}));
    EXPECT_EQ(entries[1].id, "2-0");
    EXPECT_EQ(entries[2].id, id);
    const XRangeOptions after_first{.start = "(1-0", .count = 1};
    auto r1 = co_await c.xrange("s", after_first, use_awaitable);
    EXPECT_EQ(r1, (std::vector<StreamEntry>{{"2-0", second_fields}}));
    const XRangeOptions newest{.count = 1};
    auto last = co_await c.xrevrange("s", newest, use_awaitable);
    CO_ASSERT_EQ(last.size(), 1u)
    EXPECT_EQ(last[0].id, id);
    // An id not above the last one is Redis's error.
    auto stale = c.xadd("s", second_fields, first);
    co_await test::expect_server_error(stale, "ERR The ID specified in XADD is equal or smaller");
  });
}

TEST_F(StreamCommandsTest, TrimByLengthAndByMinimumId) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Fields fields = {{"f", "v"}};
    for (int i = 1; i <= 5; ++i) {
      const XAddOptions options{.id = std::to_string(i) + "-0"};
      co_await c.xadd("s", fields, options, use_awaitable);
    }
    const StreamTrim keep_four{.max_len = 4};
    EXPECT_EQ(co_await c.xtrim("s", keep_four, use_awaitable), 1);
    const StreamTrim from_three{.min_id = "3-0"};
    EXPECT_EQ(co_await c.xtrim("s", from_three, use_awaitable), 1);
    // XADD trims as it adds.
    const XAddOptions add_and_keep_two{.id = "6-0", .trim = {.max_len = 2}};
    co_await c.xadd("s", fields, add_and_keep_two, use_awaitable);
    const XRangeOptions all;
    auto left = co_await c.xrange("s", all, use_awaitable);
    CO_ASSERT_EQ(left.size(), 2u)
    EXPECT_EQ(left[0].id, "5-0");
    EXPECT_EQ(left[1].id, "6-0");
    // Neither bound, or both, are refused before anything is sent.
    const StreamTrim nothing;
    EXPECT_THROW(static_cast<void>(c.xtrim("s", nothing)), Error);
    const StreamTrim both{.max_len = 1, .min_id = "1-0"};
    EXPECT_THROW(static_cast<void>(c.xtrim("s", both)), Error);
  });
}

TEST_F(StreamCommandsTest, XreadReturnsWhatIsNewerPerStream) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Fields fields = {{"f", "v"}};
    const XAddOptions one{.id = "1-0"};
    const XAddOptions two{.id = "2-0"};
    co_await c.xadd("a", fields, one, use_awaitable);
    co_await c.xadd("a", fields, two, use_awaitable);
    co_await c.xadd("b", fields, one, use_awaitable);
    const Streams from_start = {{"a", "1-0"}, {"b", "0"}, {"none", "0"}};
    const XReadOptions plain;
    auto read = co_await c.xread(from_start, plain, use_awaitable);
    EXPECT_EQ(read,
              (std::vector<StreamEntries>{{"a", {{"2-0", fields}}}, {"b", {{"1-0", fields}}}}));
    const XReadOptions one_each{.count = 1};
    const Streams both = {{"a", "0"}, {"b", "0"}};
    auto limited = co_await c.xread(both, one_each, use_awaitable);
    CO_ASSERT_EQ(limited.size(), 2u)
    EXPECT_EQ(limited[0].entries.size(), 1u);
    // Nothing newer: an empty result, not an error.
    const Streams caught_up = {{"a", "2-0"}, {"none", "0"}};
    auto empty1 = co_await c.xread(caught_up, plain, use_awaitable);
    EXPECT_TRUE(empty1.empty());
    // Another type is Redis's error.
    co_await c.set("text", "x", use_awaitable);
    const Streams wrong = {{"text", "0"}};
    auto read_text = c.xread(wrong, plain);
    co_await test::expect_server_error(read_text, "WRONGTYPE");
  });
}

TEST_F(StreamCommandsTest, BlockingXreadIsRefusedOnTheClientAndRunsOnALease) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    const Streams from_now = {{"events", "$"}};
    const XReadOptions blocking{.block = 5000ms};
    try {
      co_await c.xread(from_now, blocking, use_awaitable);
      ADD_FAILURE() << "XREAD BLOCK ran on a shared connection";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
      EXPECT_NE(e.message().find("Lease"), std::string::npos) << e.message();
    }
    Lease lease = co_await c.lease(use_awaitable);
    // Nothing arrives: empty after the block.
    const XReadOptions short_block{.block = 50ms};
    auto empty2 = co_await lease.xread(from_now, short_block, use_awaitable);
    EXPECT_TRUE(empty2.empty());
    // An entry added while it waits wakes it.
    std::optional<std::vector<StreamEntries>> woken;
    auto executor = co_await asio::this_coro::executor;
    asio::co_spawn(
        executor,
        [&]() -> asio::awaitable<void> {
          woken = co_await lease.xread(from_now, blocking, use_awaitable);
        },
        asio::detached);
    CO_ASSERT_TRUE(co_await test::eventually([&] {
      return server_->cli({"INFO", "clients"}).find("blocked_clients:1") != std::string::npos;
    }))
    const Fields fields = {{"f", "v"}};
    const XAddOptions generated;
    auto id = co_await c.xadd("events", fields, generated, use_awaitable);
    CO_ASSERT_TRUE(co_await test::eventually([&] { return woken.has_value(); }))
    EXPECT_EQ(*woken, (std::vector<StreamEntries>{{"events", {{id, fields}}}}));
  });
}

TEST_F(StreamCommandsTest, ConsumerGroupReadPendingAckClaim) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.xgroup_create("jobs", "workers", "0", true, use_awaitable);  // MKSTREAM
    EXPECT_EQ(co_await c.xlen("jobs", use_awaitable), 0);
    auto again = c.xgroup_create("jobs", "workers", "0", false);
    co_await test::expect_server_error(again, "BUSYGROUP");
    const Fields fields = {{"task", "t"}};
    const XAddOptions one{.id = "1-0"};
    const XAddOptions two{.id = "2-0"};
    co_await c.xadd("jobs", fields, one, use_awaitable);
    co_await c.xadd("jobs", fields, two, use_awaitable);
    const Streams undelivered = {{"jobs", ">"}};
    const XReadOptions plain;
    auto got = co_await c.xreadgroup("workers", "alice", undelivered, plain, use_awaitable);
    CO_ASSERT_EQ(got.size(), 1u)
    EXPECT_EQ(got[0].entries.size(), 2u);
    auto none_left = co_await c.xreadgroup("workers", "alice", undelivered, plain, use_awaitable);
    EXPECT_TRUE(none_left.empty());
    auto summary = co_await c.xpending("jobs", "workers", use_awaitable);
    EXPECT_EQ(summary.count, 2);
    EXPECT_EQ(summary.lowest_id, std::optional<std::string>("1-0"));
    EXPECT_EQ(summary.highest_id, std::optional<std::string>("2-0"));
    using Consumers = std::vector<std::pair<std::string, std::int64_t>>;
    EXPECT_EQ(summary.consumers, (Consumers{{"alice", 2}}));
    const XPendingRange all;
    auto pending = co_await c.xpending_entries("jobs", "workers", all, use_awaitable);
    CO_ASSERT_EQ(pending.size(), 2u)
    EXPECT_EQ(pending[0].id, "1-0");
    EXPECT_EQ(pending[0].consumer, "alice");
    EXPECT_EQ(pending[0].deliveries, 1);
    EXPECT_EQ(co_await c.xack("jobs", "workers", "1-0", use_awaitable), 1);
    EXPECT_EQ(co_await c.xack("jobs", "workers", "1-0", use_awaitable), 0);
    auto claimed = co_await c.xautoclaim("jobs", "workers", "bob", 0ms, "0-0", 10, use_awaitable);
    EXPECT_EQ(claimed.next_id, "0-0");
    EXPECT_EQ(claimed.entries, (std::vector<StreamEntry>{{"2-0", fields}}));
    EXPECT_TRUE(claimed.deleted_ids.empty());
    const XPendingRange bobs{.consumer = "bob"};
    auto bob_pending = co_await c.xpending_entries("jobs", "workers", bobs, use_awaitable);
    CO_ASSERT_EQ(bob_pending.size(), 1u)
    EXPECT_EQ(bob_pending[0].deliveries, 2);
    // Alice's own history ("0") holds nothing now: hers went to bob or were acked.
    const Streams history = {{"jobs", "0"}};
    auto own = co_await c.xreadgroup("workers", "alice", history, plain, use_awaitable);
    CO_ASSERT_EQ(own.size(), 1u)
    EXPECT_TRUE(own[0].entries.empty());
  });
}

TEST_F(StreamCommandsTest, MissingStreamsAndGroups) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.xlen("none", use_awaitable), 0);
    const XRangeOptions all;
    auto empty3 = co_await c.xrange("none", all, use_awaitable);
    EXPECT_TRUE(empty3.empty());
    const StreamTrim keep_one{.max_len = 1};
    EXPECT_EQ(co_await c.xtrim("none", keep_one, use_awaitable), 0);
    const Streams undelivered = {{"none", ">"}};
    const XReadOptions plain;
    auto read = c.xreadgroup("nogroup", "alice", undelivered, plain);
    co_await test::expect_server_error(read, "NOGROUP");
    auto pending = c.xpending("none", "nogroup");
    co_await test::expect_server_error(pending, "NOGROUP");
    auto create = c.xgroup_create("none", "g", "$", false);  // no MKSTREAM
    co_await test::expect_server_error(create, "ERR The XGROUP subcommand requires the key");
  });
}

TEST_F(StreamCommandsTest, StreamCommandsOnAnotherTypeAreWrongtype) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("text", "x", use_awaitable);
    const Fields fields = {{"f", "v"}};
    const XAddOptions generated;
    auto add = c.xadd("text", fields, generated);
    co_await test::expect_server_error(add, "WRONGTYPE");
    const XRangeOptions all;
    auto range = c.xrange("text", all);
    co_await test::expect_server_error(range, "WRONGTYPE");
    auto len = c.xlen("text");
    co_await test::expect_server_error(len, "WRONGTYPE");
  });
}

}  // namespace
}  // namespace asyncredis
