// Bytes split into tiny pieces, delayed, or throttled: the same replies, in order. One battery
// of commands with exactly known replies runs under each distortion.
#include <gtest/gtest.h>

#include <map>
#include <ostream>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::failure_of;
using test::FaultProxy;
using test::run_async;
using test::Tally;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Direction = FaultProxy::Direction;

// `size` bytes of every value 0..255, CR, LF and NUL included.
std::string binary_value(std::size_t size, unsigned seed) {
  std::string value(size, '\0');
  for (std::size_t i = 0; i < size; ++i) value[i] = static_cast<char>((i * 31 + seed) % 256);
  return value;
}

// Commands whose replies are known exactly, checked one by one. `max_value`: the largest
// value to round-trip.
asio::awaitable<void> exercise(RedisClient& client, const std::string& tag, std::size_t max_value) {
  // Values of many sizes, around the lengths where the digits of a bulk header change.
  for (std::size_t size : {0, 1, 2, 3, 9, 10, 11, 99, 100, 1000, 9999, 20000, 65543}) {
    if (size > max_value) continue;
    const std::string key = tag + ":v" + std::to_string(size);
    const std::string value = binary_value(size, static_cast<unsigned>(size));
    co_await client.set(key, value, use_awaitable);
    EXPECT_EQ(co_await client.get(key, use_awaitable), std::optional<std::string>(value))
        << "size " << size;
  }
  // Nil among values, negative integers, an error reply that leaves the connection usable.
  const std::string a = tag + ":v1", missing = tag + ":missing", n = tag + ":n";
  const std::vector<std::string> keys = {a, missing, a};
  const std::vector<std::optional<std::string>> expected = {binary_value(1, 1), std::nullopt,
                                                            binary_value(1, 1)};
  EXPECT_EQ(co_await client.mget(keys, use_awaitable), expected);
  EXPECT_EQ(co_await client.incrby(n, -5, use_awaitable), -5);
  EXPECT_EQ(co_await client.incr(n, use_awaitable), -4);
  EXPECT_EQ(co_await failure_of(client.incr(a, use_awaitable)), errc::server_error);
  // Nested arrays, an empty one included.
  const std::string script = "return {1, {2, {'three', {}}}, 'x'}";
  Reply nested = co_await client.command<Reply>("EVAL", script, 0, use_awaitable);
  EXPECT_EQ(to_debug_string(nested),
            to_debug_string(Reply::array(
                {Reply::integer(1),
                 Reply::array({Reply::integer(2),
                               Reply::array({Reply::bulk_string("three"), Reply::array({})})}),
                 Reply::bulk_string("x")})));
  const std::string h = tag + ":h";
  const std::map<std::string, std::string> fields = {{"f1", "one"}, {"f2", ""}, {"f3", "\r\n"}};
  co_await client.hset(h, fields, use_awaitable);
  auto all = co_await client.hgetall(h, use_awaitable);
  const std::map<std::string, std::string> got(all.begin(), all.end());
  EXPECT_EQ(got, fields);
  // A pipeline, and a transaction, answered in order.
  Pipeline pipeline;
  for (int i = 0; i < 50; ++i) pipeline.add("ECHO", tag + "-p" + std::to_string(i));
  std::vector<Reply> echoed = co_await client.execute(pipeline, use_awaitable);
  CO_ASSERT_EQ(echoed.size(), 50u)
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(echoed[static_cast<std::size_t>(i)].str(), tag + "-p" + std::to_string(i));
  }
  Pipeline transaction;
  transaction.add("SET", tag + ":t", "1").add("INCR", tag + ":t").add("GET", tag + ":t");
  auto applied = co_await client.transaction(transaction, use_awaitable);
  CO_ASSERT_TRUE(applied && applied->size() == 3)
  EXPECT_EQ((*applied)[1].integer(), 2);
  EXPECT_EQ((*applied)[2].str(), "2");
  // Concurrent callers share writes (automatic pipelining); each gets its own reply.
  Tally concurrent;
  for (int i = 0; i < 40; ++i) test::echo(client, tag + "-c" + std::to_string(i), concurrent);
  CO_ASSERT_TRUE(co_await eventually([&] { return concurrent.done == 40; }, 20s))
  EXPECT_EQ(concurrent.ok, 40);
}

struct Distortion {
  const char* name;
  std::size_t chunk;
  std::chrono::milliseconds latency;
  std::size_t bandwidth;
  std::size_t max_value;
};

// Test listings show the case's name, not its bytes (which hold a pointer and change per run).
void PrintTo(const Distortion& d, std::ostream* os) {
  *os << d.name;
}

class FaultsSplit : public ::testing::TestWithParam<Distortion> {};

TEST_P(FaultsSplit, SameRepliesInOrder) {
  const Distortion& d = GetParam();
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisSettings settings = proxy.settings(server.settings());
        settings.max_connections = 2;
        settings.command_timeout = 20s;
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        proxy.set_chunk_size(d.chunk);
        proxy.set_latency(d.latency);
        proxy.set_bandwidth(d.bandwidth);
        const std::string tag = d.name;
        co_await exercise(client, tag, d.max_value);
        EXPECT_EQ(client.stats().reconnects, 0u) << "nothing was broken";
      },
      60s);
}

INSTANTIATE_TEST_SUITE_P(Distortions, FaultsSplit,
                         ::testing::Values(Distortion{"one_byte", 1, 0ms, 0, 65543},
                                           Distortion{"odd_pieces_and_latency", 7, 15ms, 0, 65543},
                                           Distortion{"one_byte_paced", 1, 0ms, 50000, 1000},
                                           Distortion{"bandwidth", 0, 0ms, 400000, 65543}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(FaultsSplitLarge, LargeValuesInPiecesWithLatency) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxy.settings(server.settings());
    settings.command_timeout = 20s;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    proxy.set_chunk_size(1000);
    proxy.set_latency(5ms);
    const std::string big = binary_value(3 * 1024 * 1024 + 17, 5);
    co_await client.set("large", big, use_awaitable);
    EXPECT_EQ(co_await client.get("large", use_awaitable), std::optional<std::string>(big));
    Pipeline pipeline;
    for (int i = 0; i < 8; ++i) {
      const std::string key = "large" + std::to_string(i);
      co_await client.set(key, binary_value(100000 + static_cast<std::size_t>(i), 9),
                          use_awaitable);
      pipeline.add("GET", key);
    }
    std::vector<Reply> replies = co_await client.execute(pipeline, use_awaitable);
    CO_ASSERT_EQ(replies.size(), 8u)
    for (std::size_t i = 0; i < 8; ++i) EXPECT_EQ(replies[i].str(), binary_value(100000 + i, 9));
  });
}

TEST(FaultsSplitLarge, LateReplyOfATimedOutRequestIsDropped) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = proxy.settings(server.settings());
    settings.max_connections = 1;
    settings.health_check_interval = 0ms;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    const std::string value = binary_value(100000, 3);
    co_await client.set("slow", value, use_awaitable);
    proxy.set_bandwidth(200000, Direction::to_client);  // the reply takes about 0.5 s
    const Commands quick = client.with_timeout(150ms);
    const auto start = Clock::now();
    EXPECT_EQ(co_await failure_of(quick.get("slow", use_awaitable)), errc::timeout);
    EXPECT_LT(Clock::now() - start, 400ms);
    // Queued behind the rest of the abandoned reply, which is read and dropped.
    const std::string mine = "after";
    EXPECT_EQ(co_await client.command<std::string>("ECHO", mine, use_awaitable), mine);
    EXPECT_EQ(co_await client.get("slow", use_awaitable), std::optional<std::string>(value));
    EXPECT_EQ(client.stats().reconnects, 0u);
  });
}

}  // namespace
}  // namespace asyncredis
