// CommandMetrics under threads: io threads count events while other threads read snapshot().
// Also run under ThreadSanitizer (scripts/test.sh, label "concurrency").
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/command_metrics.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;

std::uint64_t count_of(const std::vector<CommandHistogram>& all, std::string_view command) {
  for (const auto& h : all) {
    if (h.command == command) return h.count;
  }
  return 0;
}

TEST(ObserverConcurrency, SnapshotsWhileTwoIoThreadsCount) {
  test::RedisServer server;
  asio::io_context io(2);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });

  auto metrics = std::make_shared<CommandMetrics>();
  RedisSettings settings = server.settings();
  settings.max_connections = 2;
  settings.observer = metrics;
  RedisClient client(io.get_executor(), settings);
  client.connect(asio::use_future).get();

  constexpr int threads = 3, per_thread = 2000;
  std::atomic<int> completed = 0, failed = 0;
  std::promise<void> all_done;
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto done = [&](std::exception_ptr e, auto&&...) {
          if (e) ++failed;
          if (++completed == threads * per_thread) all_done.set_value();
        };
        // New names appear while others are counted and read: the table grows under load.
        const std::string name = i % 3 == 0 ? "ECHO" : i % 3 == 1 ? "PING" : "GET";
        if (name == "GET") {
          client.get("k" + std::to_string(t), done);
        } else if (name == "PING") {
          client.command<std::string>("PING", done);
        } else {
          client.command<std::string>("ECHO", "x", done);
        }
      }
    });
  }
  std::atomic<bool> reading = true;
  std::atomic<std::uint64_t> largest_seen = 0;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last = 0;
      while (reading) {
        std::uint64_t total = 0;
        for (const auto& h : metrics->snapshot()) {
          std::uint64_t sum = 0;
          for (std::uint64_t b : h.buckets) sum += b;
          EXPECT_EQ(sum, h.count);
          total += h.count;
        }
        EXPECT_GE(total, last) << "counts only grow";
        last = total;
        largest_seen = std::max<std::uint64_t>(largest_seen, total);
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  reading = false;
  for (auto& r : readers) r.join();
  client.disconnect(asio::use_future).get();
  guard.reset();
  for (auto& r : runners) r.join();

  EXPECT_EQ(failed, 0);
  const auto all = metrics->snapshot();
  EXPECT_EQ(count_of(all, "GET") + count_of(all, "PING") + count_of(all, "ECHO"),
            static_cast<std::uint64_t>(threads * per_thread));
  EXPECT_EQ(count_of(all, "ECHO"), static_cast<std::uint64_t>(threads * ((per_thread + 2) / 3)));
}

}  // namespace
}  // namespace asyncredis
