// RedisClient over Sentinel with its io_context run by 4 threads, so that requests are sent,
// answered and moved between nodes from all of them: through a SENTINEL FAILOVER (no request
// hangs, no INCR applied twice, the client ends on the new master), then replica reads while
// a replica is killed. scripts/test.sh runs every *concurrency*_test.cpp under
// ThreadSanitizer. One cluster for the suite; the tests run in order (the second starts from
// the topology the first left).
#include <gtest/gtest.h>

#include <future>
#include <iostream>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/sentinel_load.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::LoadClock;
using test::SentinelCluster;
namespace asio = boost::asio;

constexpr int kThreads = 4;

// An io_context run by kThreads threads until stop_threads() (or the destructor).
class ThreadedIo {
 public:
  ThreadedIo() {
    for (int i = 0; i < kThreads; ++i) runners_.emplace_back([this] { io_.run(); });
  }
  ThreadedIo(const ThreadedIo&) = delete;
  ThreadedIo& operator=(const ThreadedIo&) = delete;
  ~ThreadedIo() { stop_threads(); }

  asio::io_context& io() { return io_; }
  // Lets the threads return once the work left is done, and joins them.
  void stop_threads() {
    guard_.reset();
    for (auto& runner : runners_) {
      if (runner.joinable()) runner.join();
    }
  }
  // Runs `operation` on the io_context's threads and waits for it on this one.
  template <class T>
  T wait_for(asio::awaitable<T> operation) {
    return asio::co_spawn(io_, std::move(operation), asio::use_future).get();
  }

 private:
  asio::io_context io_{kThreads};
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::vector<std::thread> runners_;
};

class SentinelConcurrency : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new SentinelCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  // Stops `load` and waits until every worker has returned: false (a failure) if one hangs.
  static bool halt(test::Load& load) {
    load.stop();
    const bool finished = test::wait_until([&] { return load.finished(); });
    EXPECT_TRUE(finished) << "a request did not complete";
    return finished;
  }

  // Whether every worker of `load` got 5 acknowledgements; if not, a failure, and `load` halted.
  static bool started(test::Load& load) {
    if (test::wait_until([&] { return load.each_acked_since({}, 5); })) return true;
    ADD_FAILURE() << "the workers did not start:" << load.some_errors();
    halt(load);
    return false;
  }

  static inline SentinelCluster* cluster_ = nullptr;
};

TEST_F(SentinelConcurrency, FollowsAFailoverWithRequestsFromFourThreads) {
  const std::uint16_t old_master = cluster_->master_port();
  RedisSettings settings = cluster_->settings();
  settings.max_connections = 4;
  ThreadedIo threads;
  RedisClient client(threads.io().get_executor(), settings);
  client.connect(asio::use_future).get();
  test::Load writers(8);
  writers.start_writers(threads.io(), client, "concurrency:counter:");
  // Returns early on a failure; the client is closed below, before the threads stop.
  const auto body = [&] {
    if (!started(writers)) return;

    const auto failover_at = LoadClock::now();
    cluster_->failover();
    const std::uint16_t new_master = cluster_->wait_new_master(old_master);
    if (new_master == 0) {
      ADD_FAILURE() << "the sentinels did not switch masters";
      halt(writers);
      return;
    }
    // Every connection moves to the new master by itself, and every writer is acknowledged
    // there, many times over.
    const std::string new_port = std::to_string(new_master);
    EXPECT_TRUE(threads.wait_for(test::all_on(client, new_port, 10s)));
    const auto moved_at = LoadClock::now();
    const bool followed =
        test::wait_until([&] { return writers.each_acked_since(moved_at, 20); }, 20s);
    EXPECT_TRUE(followed) << "failures:" << writers.some_errors();
    if (!halt(writers)) return;
    EXPECT_GT(writers.threads_seen(), 1u) << "the requests were not spread over the threads";

    // No hang, at most once per attempt, the last acknowledged count on the new master.
    const std::string what = "SENTINEL FAILOVER, io_context on 4 threads";
    threads.wait_for(writers.conclude(client, failover_at, what, settings.command_timeout));
    const auto ports = threads.wait_for(test::ports_seen(client, 8));
    EXPECT_EQ(ports, std::set<std::string>{new_port});
  };
  body();
  client.disconnect(asio::use_future).get();
  threads.stop_threads();
  cluster_->wait_settled(cluster_->master_port(), SentinelCluster::kNodes - 1);
}

TEST_F(SentinelConcurrency, ReplicaReadsFromFourThreadsSurviveAReplicaKill) {
  const std::vector<std::size_t> replicas = cluster_->replica_nodes();
  ASSERT_EQ(replicas.size(), 2u);
  cluster_->set_replicated("concurrency:replica", "v");
  RedisSettings settings = cluster_->settings();
  settings.sentinel.replicas = true;
  settings.max_connections = 4;
  test::RedisServer& victim = cluster_->node(replicas[0]);
  const std::string survivor = std::to_string(cluster_->node_port(replicas[1]));

  ThreadedIo threads;
  RedisClient client(threads.io().get_executor(), settings);
  client.connect(asio::use_future).get();
  test::Load readers(8);
  readers.start_readers(threads.io(), client, "concurrency:replica");
  const auto body = [&] {
    if (!started(readers)) return;
    const auto killed_at = LoadClock::now();
    victim.stop();
    // Reads go on: each reader is answered again and again after the kill.
    const bool survived = test::wait_until(
        [&] {
          return readers.each_acked_since(LoadClock::now() - 100ms, 1) &&
                 readers.each_acked_since(killed_at, 50);
        },
        20s);
    EXPECT_TRUE(survived) << "failures:" << readers.some_errors();
    if (!halt(readers)) return;
    EXPECT_GT(readers.threads_seen(), 1u) << "the reads were not spread over the threads";
    std::cout << "[ sentinel ] replica killed under 8 readers on 4 threads: no read answered for "
              << readers.longest_gap(killed_at).count() << " ms; " << readers.failures()
              << " failed reads; failures:" << readers.some_errors() << std::endl;
    EXPECT_LE(readers.slowest(), settings.command_timeout + 1000ms);
    // Once the sentinels see it down, every connection is on the surviving replica.
    EXPECT_TRUE(threads.wait_for(test::all_on(client, survivor, 10s)));
  };
  body();
  client.disconnect(asio::use_future).get();
  threads.stop_threads();
}

}  // namespace
}  // namespace asyncredis
