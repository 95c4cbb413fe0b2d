// A Subscriber used from several threads at once: four publish, another receives, the io
// context runs on two more. Built and run under ThreadSanitizer too (scripts/test.sh, tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
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

using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(SubscriberConcurrency, FourPublishersOneReceiver) {
  test::RedisServer server;
  asio::io_context io;
  RedisSettings settings = server.settings();
  settings.max_connections = 2;
  RedisClient client(io.get_executor(), settings);
  Subscriber sub(client);
  test::IoThreads threads(io, 2);
  client.connect(asio::use_future).get();
  sub.subscribe({"t:a", "t:b"}, asio::use_future).get();
  sub.psubscribe("t:*", asio::use_future).get();

  constexpr int kPublishers = 4, kEach = 300;
  std::atomic<int> published{0};
  std::vector<std::jthread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        const std::string channel = i % 2 == 0 ? "t:a" : "t:b";
        client.publish(channel, std::to_string(p) + "/" + std::to_string(i),
                       [&](std::exception_ptr e, std::int64_t receivers) {
                         EXPECT_FALSE(e) << error_message_of(e);
                         EXPECT_EQ(receivers, 2);  // the channel and the pattern
                         ++published;
                       });
      }
    });
  }
  // Every message comes twice: once for its channel, once for the pattern.
  std::multiset<std::string> seen;
  std::thread receiver([&] {
    for (int i = 0; i < 2 * kPublishers * kEach; ++i) {
      auto future = sub.receive(asio::use_future);
      if (future.wait_for(20s) != std::future_status::ready) {
        ADD_FAILURE() << "no message after " << i;
        return;
      }
      std::optional<Message> m = future.get();
      if (!m) return;
      EXPECT_EQ(m->dropped, 0u);
      seen.insert(m->payload);
    }
  });
  receiver.join();
  publishers.clear();
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(2 * kPublishers * kEach));
  for (int p = 0; p < kPublishers; ++p) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_EQ(seen.count(std::to_string(p) + "/" + std::to_string(i)), 2u) << p << "/" << i;
    }
  }
  test::wait_until([&] { return published == kPublishers * kEach; });  // the last replies
  EXPECT_EQ(published.load(), kPublishers * kEach);
  sub.close();
  client.disconnect(asio::use_future).get();
  threads.stop();
}

}  // namespace
}  // namespace asyncredis
