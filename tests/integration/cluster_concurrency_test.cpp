// A cluster client with its io_context run by 4 threads, so that requests are planned, sent,
// redirected and answered on all of them, while the slot map is read again every 20 ms and
// slots move under the load (their MOVED replies change the map from whichever thread gets
// them): every GET and MGET returns what its keys were last SET to, and nothing fails.
// scripts/test.sh runs every *concurrency*_test.cpp under ThreadSanitizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/cluster_suite.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

constexpr int kThreads = 4;
constexpr int kWorkers = 8;
constexpr int kKeysPerWorker = 16;

// What the workers saw, shared by the io_context's threads and the test's.
struct Tally {
  std::atomic<bool> stopping{false};
  std::atomic<int> finished{0};
  std::atomic<long long> failures{0};
  std::atomic<long long> wrong{0};
  std::vector<std::atomic<long long>> rounds = std::vector<std::atomic<long long>>(kWorkers);
  std::mutex mutex;                   // guards what follows
  std::vector<std::string> problems;  // the first few failures and wrong replies
  std::set<std::thread::id> threads;  // where the workers' operations ended

  void note(std::string problem) {
    const std::lock_guard lock(mutex);
    if (problems.size() < 10) problems.push_back(std::move(problem));
  }
  bool each_round_since(const std::vector<long long>& before, long long n) const {
    for (int i = 0; i < kWorkers; ++i) {
      if (rounds[i].load() < before[i] + n) return false;
    }
    return true;
  }
  std::vector<long long> snapshot() const {
    std::vector<long long> out;
    for (const auto& r : rounds) out.push_back(r.load());
    return out;
  }
};

// "conc:<worker>:<i>": a worker's keys, spread over many slots, written by that worker only.
std::string key_of(int worker, int i) {
  return "conc:" + std::to_string(worker) + ":" + std::to_string(i);
}

// SET a key to a new value and GET it back, round after round over the worker's keys; every
// kKeysPerWorker rounds an MGET of all of them (split over their slots) against what was set.
asio::awaitable<void> work(RedisClient& client, int worker, Tally& tally) {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeysPerWorker; ++i) keys.push_back(key_of(worker, i));
  std::vector<std::optional<std::string>> written(kKeysPerWorker);
  for (long long n = 0; !tally.stopping.load(); ++n) {
    const int i = static_cast<int>(n % kKeysPerWorker);
    const std::string value = std::to_string(worker) + "-" + std::to_string(n);
    try {
      co_await client.set(keys[i], value, use_awaitable);
      written[i] = value;
      const auto read = co_await client.get(keys[i], use_awaitable);
      if (read != value) {
        ++tally.wrong;
        tally.note("GET " + keys[i] + ": " + read.value_or("(nil)") + ", not " + value);
      }
      if (i == kKeysPerWorker - 1) {
        const auto all = co_await client.mget(keys, use_awaitable);
        if (all != written) {
          ++tally.wrong;
          tally.note("MGET of worker " + std::to_string(worker) + "'s keys differs");
        }
      }
    } catch (const Error& e) {
      ++tally.failures;
      tally.note(e.what());
    }
    ++tally.rounds[worker];
    const std::lock_guard lock(tally.mutex);
    tally.threads.insert(std::this_thread::get_id());
  }
  ++tally.finished;
}

using ClusterConcurrency = test::ClusterSuite;

TEST_F(ClusterConcurrency, RequestsFromFourThreadsWhileTheMapIsRefreshedAndSlotsMove) {
  RedisSettings settings = cluster_->client_settings();
  settings.cluster.refresh_interval = 20ms;
  settings.max_connections = 4;
  Tally tally;  // before the threads, which may touch it until they are joined
  asio::io_context io{kThreads};
  auto guard = asio::make_work_guard(io);
  std::vector<std::jthread> runners;
  for (int i = 0; i < kThreads; ++i) runners.emplace_back([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), settings);
    client.connect(asio::use_future).get();
    for (int w = 0; w < kWorkers; ++w) asio::co_spawn(io, work(client, w, tally), asio::detached);
    const auto zero = std::vector<long long>(kWorkers, 0);
    EXPECT_TRUE(test::wait_until([&] { return tally.each_round_since(zero, 20); }));

    // Every worker's first few slots move to another master while the workers go on; this
    // thread blocks in redis-cli, the io_context's four do not.
    std::set<std::uint16_t> slots;
    for (int w = 0; w < kWorkers; ++w) {
      for (int i = 0; i < 2; ++i) slots.insert(detail::slot_of(key_of(w, i)));
    }
    const auto masters = cluster_->master_ports();
    for (std::uint16_t slot : slots) {
      const std::uint16_t from = cluster_->master_of(slot);
      const auto to = std::find_if(masters.begin(), masters.end(),
                                   [&](std::uint16_t port) { return port != from; });
      cluster_->move_slot(slot, *to);
    }
    const auto moved = tally.snapshot();
    EXPECT_TRUE(test::wait_until([&] { return tally.each_round_since(moved, 2 * kKeysPerWorker); }))
        << "the workers stalled after the slots moved";

    tally.stopping = true;
    EXPECT_TRUE(test::wait_until([&] { return tally.finished.load() == kWorkers; }))
        << "a request did not complete";
    client.disconnect(asio::use_future).get();
    long long rounds = 0;
    for (const auto& r : tally.rounds) rounds += r.load();
    const std::lock_guard lock(tally.mutex);
    std::cout << "[ cluster ] " << kWorkers << " workers on " << kThreads << " threads, "
              << slots.size() << " slots moved, map refreshed every 20 ms: " << rounds
              << " rounds, " << tally.failures.load() << " failures, " << tally.wrong.load()
              << " wrong replies" << std::endl;
    EXPECT_EQ(tally.failures.load(), 0);
    EXPECT_EQ(tally.wrong.load(), 0);
    for (const auto& problem : tally.problems) ADD_FAILURE() << problem;
    EXPECT_GT(tally.threads.size(), 1u) << "the requests were not spread over the threads";
  }
  guard.reset();
}

// The parts of a cluster client that follow the map by themselves, with 4 threads: shard
// channels moving with their slots (ShardRouter) and per-node tracking (ClusterTracking),
// while a publisher and readers run on every thread and the map is read every 20 ms.
TEST_F(ClusterConcurrency, ShardChannelsAndTrackingFollowMovingSlotsOnFourThreads) {
  RedisSettings settings = cluster_->client_settings();
  settings.cluster.refresh_interval = 20ms;
  asio::io_context io{kThreads};
  auto guard = asio::make_work_guard(io);
  std::vector<std::jthread> runners;
  for (int i = 0; i < kThreads; ++i) runners.emplace_back([&] { io.run(); });
  std::atomic<long long> published{0}, events{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> finished{0};
  std::mutex mutex;
  std::map<std::string, long long> last_heard;  // channel -> the last number heard on it
  std::vector<std::string> channels;
  for (int i = 0; i < 8; ++i) channels.push_back("conc-channel:" + std::to_string(i));
  const auto heard_each_after = [&](long long n) {
    const std::lock_guard lock(mutex);
    for (const std::string& channel : channels) {
      const auto it = last_heard.find(channel);
      if (it == last_heard.end() || it->second <= n) return false;
    }
    return true;
  };
  {
    RedisClient client(io.get_executor(), settings);
    client.connect(asio::use_future).get();
    ClientTracking tracking(client, {}, [&](const TrackingEvent&) { ++events; });
    Subscriber sub(client);
    sub.ssubscribe(channels, asio::use_future).get();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (auto m = co_await sub.receive(use_awaitable)) {
            if (m->kind != Message::Kind::smessage) continue;
            const std::lock_guard lock(mutex);
            last_heard[m->channel] = std::stoll(m->payload);
          }
          ++finished;
        },
        asio::detached);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (!stopping) {
            const long long n = ++published;
            for (const std::string& channel : channels) {
              try {
                co_await client.command<std::int64_t>("SPUBLISH", channel, std::to_string(n),
                                                      use_awaitable);
                co_await client.set(channel + ":value", n, use_awaitable);
                co_await client.get(channel + ":value", use_awaitable);  // tracked
              } catch (const Error&) {
                // A moved slot answers after a redirection; nothing here must fail the test.
              }
            }
          }
          ++finished;
        },
        asio::detached);
    EXPECT_TRUE(test::wait_until([&] { return heard_each_after(0); }));
    EXPECT_TRUE(test::wait_until([&] { return tracking.active(); }));

    // Half the channels' slots move while the publisher goes on.
    const auto masters = cluster_->master_ports();
    for (int i = 0; i < 4; ++i) {
      const std::uint16_t slot = detail::slot_of(channels[i]);
      const std::uint16_t from = cluster_->master_of(slot);
      const auto to = std::find_if(masters.begin(), masters.end(),
                                   [&](std::uint16_t port) { return port != from; });
      cluster_->move_slot(slot, *to);
    }
    const long long at_move = published.load();
    EXPECT_TRUE(test::wait_until([&] { return heard_each_after(at_move); }, 30s))
        << "a moved channel was not heard again";
    EXPECT_TRUE(test::wait_until([&] { return tracking.active(); }));
    EXPECT_EQ(sub.stats().shard_channels, channels.size());

    stopping = true;
    EXPECT_TRUE(test::wait_until([&] { return finished.load() == 1; }));
    sub.close();
    EXPECT_TRUE(test::wait_until([&] { return finished.load() == 2; }));
    client.disconnect(asio::use_future).get();
    std::cout << "[ cluster ] 8 shard channels, 4 slots moved: " << published.load()
              << " rounds published, " << events.load() << " tracking events" << std::endl;
  }
  guard.reset();
}

}  // namespace
}  // namespace asyncredis
