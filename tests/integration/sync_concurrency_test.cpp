// SyncClient and SyncCache called from many threads at once (also run under TSan).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "asyncredis/cache/sync_cache.hpp"
#include "asyncredis/sync_client.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;

class SyncConcurrency : public test::SharedServerTest {};

TEST_F(SyncConcurrency, ManyThreadsShareThePool) {
  SyncClient redis(server_->settings());
  constexpr int threads = 8;
  constexpr int per_thread = 500;
  std::vector<std::thread> callers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < threads; ++t) {
    callers.emplace_back([&, t] {
      const std::string key = "k" + std::to_string(t);
      for (int i = 0; i < per_thread; ++i) {
        redis.incr(key);
        if (redis.get(key) != std::to_string(i + 1)) ++wrong;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(redis.get("k7"), std::to_string(per_thread));
}

TEST_F(SyncConcurrency, GetOrSetComputesOnceForAllThreads) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  std::atomic<int> computed{0};
  std::atomic<bool> release{false};
  auto compute = [&] {
    ++computed;
    while (!release.load()) std::this_thread::yield();  // hold the flight until all have asked
    return 42;
  };
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&] {
      if (cache.get_or_set("answer", 10s, compute) == 42) ++right;
    });
  }
  // Whether a caller joins the flight or arrives after the store, it must not compute again.
  while (computed.load() == 0) std::this_thread::yield();
  release = true;
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(right.load(), 8);
  EXPECT_EQ(computed.load(), 1);
  EXPECT_EQ(cache.get<int>("answer"), 42);
}

}  // namespace
}  // namespace asyncredis
