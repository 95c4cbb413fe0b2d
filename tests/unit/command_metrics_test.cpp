// CommandMetrics (histograms per command name) and the helpers that fill a CommandEvent:
// command names, reply sizes on the wire. No server.
#include "asyncredis/command_metrics.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "observe/observation.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;

CommandEvent event(std::string_view command, std::chrono::nanoseconds latency,
                   std::error_code error = {}) {
  CommandEvent e;
  e.command = command;
  e.latency = latency;
  e.error = error;
  return e;
}

const CommandHistogram* find(const std::vector<CommandHistogram>& all, std::string_view name) {
  for (const auto& h : all) {
    if (h.command == name) return &h;
  }
  return nullptr;
}

TEST(CommandMetrics, BoundsAreLogSpacedFrom50usTo10s) {
  const auto bounds = CommandMetrics::bucket_bounds();
  ASSERT_GE(bounds.size(), 10u);
  EXPECT_EQ(bounds.front(), 50us);
  EXPECT_EQ(bounds.back(), 10s);
  for (std::size_t i = 1; i < bounds.size(); ++i) {
    EXPECT_GT(bounds[i], bounds[i - 1]);
    EXPECT_LE(bounds[i], bounds[i - 1] * 5 / 2 + 1us) << "at most 2.5x per step";
  }
}

TEST(CommandMetrics, CountsEachNameInItsBuckets) {
  CommandMetrics metrics;
  EXPECT_TRUE(metrics.snapshot().empty());
  metrics.on_end(event("GET", 10us));  // first bucket
  metrics.on_end(event("GET", 50us));  // the bound itself is in its bucket
  metrics.on_end(event("GET", 51us));  // the next one
  metrics.on_end(event("GET", 1h));    // above every bound
  metrics.on_end(event("SET", 3ms, make_error_code(errc::timeout)));
  metrics.on_end(event("SET", 3ms, make_error_code(errc::server_error)));

  const auto all = metrics.snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].command, "GET") << "sorted by name";
  const auto bounds = CommandMetrics::bucket_bounds();
  const CommandHistogram& get = all[0];
  ASSERT_EQ(get.buckets.size(), bounds.size() + 1);
  EXPECT_EQ(get.buckets[0], 2u);
  EXPECT_EQ(get.buckets[1], 1u);
  EXPECT_EQ(get.buckets.back(), 1u);
  EXPECT_EQ(get.count, 4u);
  EXPECT_EQ(std::accumulate(get.buckets.begin(), get.buckets.end(), std::uint64_t{0}), get.count);
  EXPECT_EQ(get.sum, std::chrono::nanoseconds(10us + 50us + 51us + 1h));
  EXPECT_EQ(get.errors, 0u);

  const CommandHistogram* set = find(all, "SET");
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->count, 2u);
  EXPECT_EQ(set->errors, 2u) << "server errors count as errors too";
  EXPECT_EQ(set->buckets[6], 2u) << "3 ms is in the 5 ms bucket";
}

TEST(CommandMetrics, WorksAsAnObserverThroughTheBaseClass) {
  auto metrics = std::make_shared<CommandMetrics>();
  std::shared_ptr<CommandObserver> observer = metrics;
  observer->on_start("PING", "127.0.0.1:6379");  // the default: nothing to do
  observer->on_end(event("PING", 1ms));
  ASSERT_NE(find(metrics->snapshot(), "PING"), nullptr);
  EXPECT_EQ(find(metrics->snapshot(), "PING")->count, 1u);
}

TEST(CommandName, FirstWordUpperCasedOrTheKindOfBatch) {
  detail::Request get;
  encode_command(get.payload, "get", "key");
  EXPECT_EQ(detail::command_name(get), "GET");
  detail::Request client;
  encode_command(client.payload, "CLIENT", "SETNAME", "x");
  EXPECT_EQ(detail::command_name(client), "CLIENT");
  detail::Request pipeline = get;
  pipeline.deliver = detail::Deliver::array;
  EXPECT_EQ(detail::command_name(pipeline), "PIPELINE");
  detail::Request multi = get;
  multi.deliver = detail::Deliver::last;
  EXPECT_EQ(detail::command_name(multi), "MULTI");
  detail::Request junk;
  junk.payload = "PING\r\n";
  EXPECT_EQ(detail::command_name(junk), "?");
  junk.payload = "*1\r\n$9\r\nPI";
  EXPECT_EQ(detail::command_name(junk), "?") << "a length past the end";
}

TEST(WireSize, IsTheRespEncodingOfTheReply) {
  using detail::wire_size;
  EXPECT_EQ(wire_size(Reply::simple_string("OK")), std::string("+OK\r\n").size());
  EXPECT_EQ(wire_size(Reply::error("ERR x")), std::string("-ERR x\r\n").size());
  EXPECT_EQ(wire_size(Reply::integer(0)), std::string(":0\r\n").size());
  EXPECT_EQ(wire_size(Reply::integer(-120)), std::string(":-120\r\n").size());
  EXPECT_EQ(wire_size(Reply::integer(INT64_MIN)), std::string(":-9223372036854775808\r\n").size());
  EXPECT_EQ(wire_size(Reply::bulk_string("hello")), std::string("$5\r\nhello\r\n").size());
  EXPECT_EQ(wire_size(Reply::bulk_string(std::string(10, 'x'))),
            std::string("$10\r\n").size() + 10 + 2);
  EXPECT_EQ(wire_size(Reply::nil()), std::string("$-1\r\n").size());
  std::vector<Reply> elements{Reply::integer(1), Reply::bulk_string("ab")};
  EXPECT_EQ(wire_size(Reply::array(std::move(elements))),
            std::string("*2\r\n:1\r\n$2\r\nab\r\n").size());
}

}  // namespace
}  // namespace asyncredis
