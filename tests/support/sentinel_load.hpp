// Load for the Sentinel failover tests: writers that INCR a counter each, as fast as their
// replies come, recording every attempt, every acknowledgement and when each operation ended;
// readers that GET in a loop. What they record answers the questions of a failover: did any
// operation hang, was anything applied twice, how long was nothing acknowledged. The workers
// may run on an io_context run by several threads, and be watched from yet another: what they
// record is behind a mutex. Also what the Sentinel suites ask of a client: where its
// connections go, how its connect() fails, whether it follows a SENTINEL FAILOVER.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <iostream>
#include <mutex>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

using LoadClock = std::chrono::steady_clock;

struct LoadRecord {
  long long attempts = 0;
  long long acks = 0;
  long long failures = 0;
  long long last_acked = 0;  // the last INCR result acknowledged (writers; 0 for readers)
  std::chrono::milliseconds slowest{0};
  std::vector<LoadClock::time_point> successes;
  std::vector<std::string> errors;    // the distinct failure messages, for the log
  std::set<std::thread::id> threads;  // the threads the worker's operations ended on
  bool done = false;
};

// The port of the node `client`'s connections reach, asked `times` times (CONFIG GET
// `parameter`: "port", or "tls-port" for a TLS cluster; "failed" for a request that failed:
// the test goes on, its workers must not outlive it).
inline boost::asio::awaitable<std::set<std::string>> ports_seen(RedisClient& client, int times,
                                                                const char* parameter = "port") {
  std::set<std::string> ports;
  for (int i = 0; i < times; ++i) {
    try {
      const Reply port =
          co_await client.command<Reply>("CONFIG", "GET", parameter, boost::asio::use_awaitable);
      ports.insert(port.elements().at(1).str());
    } catch (const Error&) {
      ports.insert("failed");
    }
  }
  co_return ports;
}

// Whether every connection of `client` reaches the node on `port` (CONFIG GET `parameter`)
// within `limit`.
inline boost::asio::awaitable<bool> all_on(RedisClient& client, const std::string& port,
                                           std::chrono::milliseconds limit,
                                           const char* parameter = "port") {
  const auto deadline = LoadClock::now() + limit;
  const std::set<std::string> wanted{port};
  while (LoadClock::now() < deadline) {
    const auto ports = co_await ports_seen(client, 8, parameter);
    if (ports == wanted) co_return true;
  }
  co_return false;
}

// The code and message a fresh client's connect() fails with under `settings` (a failure of
// the test if it succeeds).
inline std::pair<std::error_code, std::string> connect_error(const RedisSettings& settings) {
  std::pair<std::error_code, std::string> out;
  run_async([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings);
    try {
      co_await client.connect(boost::asio::use_awaitable);
      ADD_FAILURE() << "connect() succeeded";
    } catch (const Error& e) {
      out = {e.code(), e.message()};
    }
  });
  return out;
}

// The first word of a ROLE reply ("master", "slave"); "" for anything else.
inline std::string first_word(const Reply& role) {
  return role.is_array() && !role.elements().empty() ? role.elements().front().str() : "";
}

// What many writers or readers share: a stop flag and their records.
class Load {
 public:
  explicit Load(std::size_t workers) : records_(workers) {}

  // Starts `workers` writers (INCR <prefix><i>) on `client`; they run until stop().
  void start_writers(boost::asio::io_context& io, RedisClient& client, const std::string& prefix) {
    prefix_ = prefix;
    for (std::size_t i = 0; i < records_.size(); ++i) {
      boost::asio::co_spawn(io, write(client, prefix + std::to_string(i), records_[i]),
                            boost::asio::detached);
    }
  }
  // Starts readers (GET `key`) on `client`; they run until stop().
  void start_readers(boost::asio::io_context& io, RedisClient& client, const std::string& key) {
    for (auto& record : records_) {
      boost::asio::co_spawn(io, read(client, key, record), boost::asio::detached);
    }
  }

  // Whether every worker got `n` acknowledgements; if not, the test fails and the workers are
  // halted (the test must return).
  boost::asio::awaitable<bool> started(std::size_t n = 5) {
    const bool ok = co_await eventually([&] { return each_acked_since({}, n); });
    if (ok) co_return true;
    ADD_FAILURE() << "the workers did not start:" << some_errors();
    co_await halt();
    co_return false;
  }

  // After halt(), the verdict on writers put through `what` (a failover, a kill) at `since`:
  // prints how long nothing was acknowledged (recorded as the test's unavailability_ms), the
  // failed attempts and the slowest operation; fails the test if an operation took longer than
  // `command_timeout` (plus the machine's slack: it hung) or if a counter, read through
  // `client`, does not count at most one INCR per attempt and at least the last acknowledged
  // value. Returns the unavailability window.
  boost::asio::awaitable<std::chrono::milliseconds> conclude(
      RedisClient& client, LoadClock::time_point since, const std::string& what,
      std::chrono::milliseconds command_timeout) {
    using namespace std::chrono_literals;
    const auto window = longest_gap(since);
    std::cout << "[ sentinel ] " << what << " under " << records_.size()
              << " writers: no write acknowledged for " << window.count() << " ms; " << failures()
              << " failed attempts; slowest operation " << slowest().count()
              << " ms; failures:" << some_errors() << std::endl;
    ::testing::Test::RecordProperty("unavailability_ms", static_cast<int>(window.count()));
    EXPECT_LE(slowest(), command_timeout + 1000ms);
    for (std::size_t i = 0; i < records_.size(); ++i) {
      const std::string key = prefix_ + std::to_string(i);
      const auto value = co_await client.get(key, boost::asio::use_awaitable);
      const long long stored = value ? std::stoll(*value) : 0;
      const std::lock_guard lock(mutex_);
      EXPECT_LE(stored, records_[i].attempts) << key;
      EXPECT_GE(stored, records_[i].last_acked) << key;
    }
    co_return window;
  }

  void stop() { stopping_ = true; }
  // stop(), then waits until every worker has finished (they refer to this Load and to their
  // client: a test must call it before either goes, on every path). False if they did not.
  boost::asio::awaitable<bool> halt() {
    stop();
    co_return co_await eventually([this] { return finished(); });
  }
  bool finished() const {
    const std::lock_guard lock(mutex_);
    return std::all_of(records_.begin(), records_.end(), [](const auto& r) { return r.done; });
  }
  // Whether every worker has at least `n` acknowledgements after `since`.
  bool each_acked_since(LoadClock::time_point since, std::size_t n) const {
    const std::lock_guard lock(mutex_);
    return std::all_of(records_.begin(), records_.end(), [&](const LoadRecord& r) {
      return static_cast<std::size_t>(std::count_if(r.successes.begin(), r.successes.end(),
                                                    [&](auto t) { return t >= since; })) >= n;
    });
  }
  // How many threads the workers' operations ended on (1 unless the io_context has more).
  std::size_t threads_seen() const {
    const std::lock_guard lock(mutex_);
    std::set<std::thread::id> all;
    for (const auto& r : records_) all.insert(r.threads.begin(), r.threads.end());
    return all.size();
  }
  long long failures() const {
    const std::lock_guard lock(mutex_);
    long long n = 0;
    for (const auto& r : records_) n += r.failures;
    return n;
  }
  std::chrono::milliseconds slowest() const {
    const std::lock_guard lock(mutex_);
    std::chrono::milliseconds most{0};
    for (const auto& r : records_) most = std::max(most, r.slowest);
    return most;
  }
  // The longest time after `since` in which no worker had an acknowledgement.
  std::chrono::milliseconds longest_gap(LoadClock::time_point since) const {
    std::vector<LoadClock::time_point> all;
    {
      const std::lock_guard lock(mutex_);
      for (const auto& r : records_) all.insert(all.end(), r.successes.begin(), r.successes.end());
    }
    std::sort(all.begin(), all.end());
    auto previous = since;
    LoadClock::duration widest{0};
    for (auto t : all) {
      if (t < since) continue;
      widest = std::max(widest, t - previous);
      previous = t;
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(widest);
  }
  // Distinct failure messages, at most `n`.
  std::string some_errors(std::size_t n = 5) const {
    const std::lock_guard lock(mutex_);
    std::vector<std::string> seen;
    for (const auto& r : records_) {
      for (const auto& e : r.errors) {
        if (seen.size() < n && std::find(seen.begin(), seen.end(), e) == seen.end()) {
          seen.push_back(e);
        }
      }
    }
    std::string out;
    for (const auto& e : seen) out += "\n  " + e;
    return out;
  }

 private:
  // Runs `operation` (an awaitable giving the INCR's result, or 0) until stop(), recording
  // each outcome in `record`; never holds the mutex across a co_await.
  template <class Operation>
  boost::asio::awaitable<void> loop(LoadRecord& record, const Operation& operation) {
    while (!stopping_) {
      const auto started = LoadClock::now();
      {
        const std::lock_guard lock(mutex_);
        ++record.attempts;
      }
      std::string failure;
      long long value = 0;
      try {
        value = co_await operation();
      } catch (const Error& e) {
        // Messages without the node, which differs from one connection to the next.
        failure = e.message();
        if (auto colon = failure.find(": "); colon != std::string::npos) {
          failure = failure.substr(colon + 2);
        }
        if (failure.empty()) failure = "(no message)";
      }
      const auto ended = LoadClock::now();
      const std::lock_guard lock(mutex_);
      record.threads.insert(std::this_thread::get_id());
      if (failure.empty()) {
        ++record.acks;
        record.last_acked = value;
        record.successes.push_back(ended);
      } else {
        ++record.failures;
        if (record.errors.size() < 20 &&
            std::find(record.errors.begin(), record.errors.end(), failure) == record.errors.end()) {
          record.errors.push_back(failure);
        }
      }
      record.slowest = std::max(
          record.slowest, std::chrono::duration_cast<std::chrono::milliseconds>(ended - started));
    }
    const std::lock_guard lock(mutex_);
    record.done = true;
  }

  boost::asio::awaitable<void> write(RedisClient& client, std::string key, LoadRecord& record) {
    // Named, and taken by reference: GCC 12 destroys a temporary in a co_await twice.
    const auto incr = [&]() -> boost::asio::awaitable<long long> {
      co_return co_await client.incr(key, boost::asio::use_awaitable);
    };
    co_await loop(record, incr);
  }

  boost::asio::awaitable<void> read(RedisClient& client, std::string key, LoadRecord& record) {
    const auto get = [&]() -> boost::asio::awaitable<long long> {
      co_await client.get(key, boost::asio::use_awaitable);
      co_return 0;
    };
    co_await loop(record, get);
  }

  mutable std::mutex mutex_;  // guards records_ (not their number)
  std::vector<LoadRecord> records_;
  std::string prefix_;
  std::atomic<bool> stopping_{false};
};

// SENTINEL FAILOVER through `cluster` under `writers` (started) on `client`: the client must
// follow by itself, every connection on the new master (CONFIG GET port, or tls-port, answering
// its node_port()) within 10 s and every writer acknowledged 20 times there; then the writers are
// halted and conclude() gives the verdict under `what`. What fails is the test's failure. The
// sentinels are asked from another thread: redis-cli blocks, the writers must not.
inline boost::asio::awaitable<void> follow_failover(SentinelCluster& cluster, RedisClient& client,
                                                    Load& writers, const std::string& what,
                                                    std::chrono::milliseconds command_timeout) {
  using namespace std::chrono_literals;
  const std::uint16_t old_master = cluster.master_port();
  const auto failover_at = LoadClock::now();
  cluster.failover();
  std::atomic<std::uint16_t> new_master{0};
  std::jthread watch([&] { new_master = cluster.wait_new_master(old_master, 20s); });
  const bool switched = co_await eventually([&] { return new_master != 0; }, 25s);
  watch.join();  // at once: it has given up by now if it has not found one
  if (!switched) {
    ADD_FAILURE() << "the sentinels did not switch masters";
    co_await writers.halt();
    co_return;
  }
  const std::string new_port = std::to_string(new_master);
  const char* parameter = cluster.options().tls != nullptr ? "tls-port" : "port";
  const bool moved = co_await all_on(client, new_port, 10s, parameter);
  EXPECT_TRUE(moved);
  const auto moved_at = LoadClock::now();
  const auto follow_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(moved_at - failover_at);
  const bool followed =
      co_await eventually([&] { return writers.each_acked_since(moved_at, 20); }, 20s);
  const bool halted = co_await writers.halt();
  EXPECT_TRUE(halted) << "a writer did not return";
  if (!halted) co_return;
  EXPECT_TRUE(followed) << "failures:" << writers.some_errors();
  std::cout << "[ sentinel ] " << what << ": all connections on the new master "
            << follow_ms.count() << " ms after it" << std::endl;
  co_await writers.conclude(client, failover_at, what, command_timeout);
}

}  // namespace asyncredis::test
