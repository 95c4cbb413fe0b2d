// Many threads, one client: every reply reaches the request that asked for it. This file is
// also run under ThreadSanitizer (scripts/test.sh).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;

TEST(Concurrency, TenThousandRequestsFromFourThreadsAllMatched) {
  test::RedisServer server;
  asio::io_context io(4);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 4; ++i) runners.emplace_back([&] { io.run(); });

  RedisSettings settings = server.settings();
  settings.max_connections = 3;
  RedisClient client(io.get_executor(), settings);
  client.connect(asio::use_future).get();

  constexpr int threads = 4, per_thread = 2500;
  std::atomic<int> matched = 0, mismatched = 0, failed = 0, completed = 0;
  std::promise<void> all_done;
  std::vector<std::thread> producers;
  for (int t = 0; t < threads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        std::string payload = "t" + std::to_string(t) + ":" + std::to_string(i);
        auto check = [&, expected = payload](std::exception_ptr e, std::string echoed) {
          if (e) {
            ++failed;
          } else if (echoed == expected) {
            ++matched;
          } else {
            ++mismatched;
          }
          if (++completed == threads * per_thread) all_done.set_value();
        };
        if (i % 2 == 0) {
          client.command<std::string>("ECHO", payload, std::move(check));
        } else {  // a pipeline of two, answered together
          Pipeline p;
          p.add("SET", payload, payload).add("GET", payload);
          client.execute(p, [check = std::move(check)](std::exception_ptr e,
                                                       std::vector<Reply> replies) mutable {
            check(e, e ? std::string() : replies.at(1).as<std::string>());
          });
        }
      }
    });
  }
  for (auto& p : producers) p.join();
  ASSERT_EQ(all_done.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(matched, threads * per_thread);
  EXPECT_EQ(mismatched, 0);
  EXPECT_EQ(failed, 0);

  client.disconnect(asio::use_future).get();
  guard.reset();
  for (auto& r : runners) r.join();
}

TEST(Concurrency, ConnectDisconnectAndLeasesFromManyThreads) {
  test::RedisServer server;
  asio::io_context io(2);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });
  RedisSettings settings = server.settings();
  settings.max_connections = 2;
  RedisClient client(io.get_executor(), settings);
  client.connect(asio::use_future).get();
  std::vector<std::thread> users;
  std::atomic<int> transactions = 0;
  for (int t = 0; t < 4; ++t) {
    users.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        Lease lease = client.lease(asio::use_future).get();
        Pipeline p;
        p.add("INCR", "leased");
        if (lease.transaction(p, asio::use_future).get()) ++transactions;
      }
    });
  }
  for (auto& u : users) u.join();
  EXPECT_EQ(transactions, 100);
  EXPECT_EQ(client.get("leased", asio::use_future).get(), std::optional<std::string>("100"));
  client.disconnect(asio::use_future).get();
  guard.reset();
  for (auto& r : runners) r.join();
}

}  // namespace
}  // namespace asyncredis
