// ClientTracking used from several threads at once: the io context runs on two threads, four
// readers GET tracked keys, a writer changes them through another connection, and the
// invalidation connection is killed twice meanwhile. Built and run under ThreadSanitizer too
// (scripts/test.sh, tsan): the events come from connection strands and the client's executor.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;
using Kind = TrackingEvent::Kind;

TEST(TrackingConcurrency, ReadersWriterAndKillsFromManyThreads) {
  test::RedisServer server;
  asio::io_context io;
  RedisSettings settings = server.settings();
  settings.max_connections = 3;
  RedisClient client(io.get_executor(), settings);
  test::IoThreads threads(io, 2);
  client.connect(asio::use_future).get();

  std::mutex mutex;
  std::set<std::string> invalidated;
  std::atomic<int> ons{0}, losts{0};
  std::atomic<std::uint64_t> last_epoch{0};
  ClientTracking tracking(client, {}, [&](const TrackingEvent& event) {
    // One at a time and in order: epochs never go back.
    EXPECT_GE(event.epoch, last_epoch.load());
    last_epoch = event.epoch;
    if (event.kind == Kind::on) ++ons;
    if (event.kind == Kind::lost) ++losts;
    if (event.kind != Kind::invalidated) return;
    std::lock_guard lock(mutex);
    invalidated.insert(event.keys.begin(), event.keys.end());
  });
  ASSERT_TRUE(test::wait_until([&] { return tracking.active(); }));

  constexpr int kReaders = 4, kKeys = 20;
  std::atomic<bool> done{false};
  std::vector<std::jthread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&, r] {
      for (int i = 0; !done; ++i) {
        const std::string key = "t:c:" + std::to_string((i + r) % kKeys);
        try {
          client.get(key, asio::use_future).get();
        } catch (const Error&) {
          // a connection killed under the read: the next one goes on
        }
        (void)tracking.active();
        (void)tracking.epoch();
      }
    });
  }
  for (int round = 0; round < 2; ++round) {
    const int before = ons.load();
    ASSERT_TRUE(test::wait_until([&] { return tracking.redirect_id().has_value(); }));
    server.cli({"CLIENT", "KILL", "ID", std::to_string(*tracking.redirect_id())});
    ASSERT_TRUE(test::wait_until([&] { return ons.load() > before && tracking.active(); }));
  }
  {
    std::lock_guard lock(mutex);
    invalidated.clear();
  }
  // The readers read every key again and again: each write now is reported.
  ASSERT_TRUE(test::wait_until([&] {
    for (int k = 0; k < kKeys; ++k) server.cli({"SET", "t:c:" + std::to_string(k), "v"});
    std::lock_guard lock(mutex);
    return invalidated.size() == static_cast<std::size_t>(kKeys);
  }));
  done = true;
  readers.clear();
  EXPECT_GE(losts.load(), 2);
  client.disconnect(asio::use_future).get();
}

}  // namespace
}  // namespace asyncredis
