// A long mixed load (SET, GET, INCR, bursts of ECHO, from workers on two threads) through a
// proxy that resets every connection every few hundred milliseconds. At the end every
// acknowledged SET is in Redis (its value or a later attempt's), every INCR counter lies between
// its successes and its successes plus its uncertain failures, and no reply ever reached the
// wrong request. Also run under ThreadSanitizer.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <future>
#include <random>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::eventually;
using test::FaultProxy;
using test::Tally;
using test::use_awaitable;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr int kWorkers = 4;
constexpr int kKeys = 8;  // per worker
constexpr auto kDuration = 10s;

struct KeyState {
  int attempted = 0;  // seq of the last SET sent
  int acked = 0;      // seq of the last SET acknowledged
};

// One worker's view; touched only by its own coroutine until that finishes.
struct Worker {
  int id = 0;
  std::array<KeyState, kKeys> keys{};
  std::int64_t incr_ok = 0;
  std::int64_t incr_uncertain = 0;  // failed, yet maybe applied: lost or timed out
  std::int64_t last_incr = 0;
  int succeeded = 0;
  int lost = 0;
  int timed_out = 0;
  std::vector<std::string> violations;  // each a broken guarantee

  std::string key(int k) const { return "soak:" + std::to_string(id) + ":" + std::to_string(k); }
  std::string counter() const { return "soak:counter:" + std::to_string(id); }
  std::string value(int k, int seq) const { return key(k) + "=" + std::to_string(seq); }
  // The seq of a value of key k; -1 if it is not one of ours.
  int seq_of(int k, const std::string& value) const {
    const std::string prefix = key(k) + "=";
    if (value.rfind(prefix, 0) != 0) return -1;
    return std::stoi(value.substr(prefix.size()));
  }
  // An expected failure (true), or a violation recorded.
  bool failed(const Error& e, const char* what) {
    if (e.code() == make_error_code(errc::connection_lost)) {
      ++lost;
      return true;
    }
    if (e.code() == make_error_code(errc::timeout)) {
      ++timed_out;
      return true;
    }
    violations.push_back(std::string(what) + ": unexpected error " + e.what());
    return false;
  }
};

asio::awaitable<void> run_worker(RedisClient& client, Worker& w, Clock::time_point until) {
  const Commands retrying = client.with({.retry_on_reconnect = true});
  for (int step = 0; Clock::now() < until; ++step) {
    const int k = step % kKeys;
    KeyState& state = w.keys[static_cast<std::size_t>(k)];
    const std::string key = w.key(k);
    switch (step % 4) {
      case 0: {  // SET; idempotent until the next SET of the key, so half may retry
        const int seq = ++state.attempted;
        const std::string value = w.value(k, seq);
        try {
          if (k % 2 == 0) {
            co_await client.set(key, value, use_awaitable);
          } else {
            co_await retrying.set(key, value, use_awaitable);
          }
          state.acked = seq;
          ++w.succeeded;
        } catch (const Error& e) {
          w.failed(e, "SET");
        }
        break;
      }
      case 1: {  // GET, retried: the acknowledged value or a later attempt, never another's
        const KeyState before = state;
        try {
          const auto value = co_await retrying.get(key, use_awaitable);
          ++w.succeeded;
          const int seq = value ? w.seq_of(k, *value) : 0;
          if (seq < before.acked || seq > before.attempted) {
            w.violations.push_back("GET " + key + " returned " + value.value_or("(nil)") +
                                   " after SET seq " + std::to_string(before.acked) +
                                   " was acknowledged");
          }
        } catch (const Error& e) {
          w.failed(e, "GET");
        }
        break;
      }
      case 2: {  // INCR: never retried; each success strictly above the previous one
        try {
          const std::int64_t now = co_await client.incr(w.counter(), use_awaitable);
          ++w.incr_ok;
          ++w.succeeded;
          if (now <= w.last_incr || now > w.incr_ok + w.incr_uncertain) {
            w.violations.push_back("INCR returned " + std::to_string(now) + " after " +
                                   std::to_string(w.last_incr) + " with " +
                                   std::to_string(w.incr_ok) + " successes and " +
                                   std::to_string(w.incr_uncertain) + " uncertain");
          }
          w.last_incr = now;
        } catch (const Error& e) {
          if (w.failed(e, "INCR")) ++w.incr_uncertain;
        }
        break;
      }
      case 3: {  // a burst of concurrent ECHOs, auto-pipelined together
        Tally burst;
        for (int i = 0; i < 10; ++i) {
          test::echo(client, key + "#" + std::to_string(step) + "." + std::to_string(i), burst);
        }
        if (!co_await eventually([&] { return burst.done == 10; }, 10s)) {
          w.violations.push_back("an ECHO burst never completed");
          co_return;
        }
        w.succeeded += burst.ok;
        w.lost += burst.lost;
        w.timed_out += burst.timed_out;
        if (burst.wrong + burst.other > 0) {
          w.violations.push_back(std::to_string(burst.wrong.load()) + " ECHO replies were " +
                                 "another request's, " + std::to_string(burst.other.load()) +
                                 " failed unexpectedly");
        }
        break;
      }
    }
  }
}

TEST(FaultsSoak, MixedLoadThroughRepeatedResets) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  asio::io_context io(2);
  test::IoThreads runners(io, 2);

  RedisSettings settings = proxy.settings(server.settings());
  settings.max_connections = 3;
  settings.command_timeout = 3s;
  settings.health_check_interval = 500ms;
  settings.reconnect_min_delay = 5ms;
  settings.reconnect_max_delay = 50ms;
  auto client = std::make_unique<RedisClient>(io.get_executor(), settings);
  client->connect(asio::use_future).get();

  const auto until = Clock::now() + kDuration;
  std::jthread resetter([&](std::stop_token stop) {
    std::mt19937 random(7);
    while (!stop.stop_requested() && Clock::now() < until) {
      // The fault's random rhythm, not a wait: resets land at any point of the workload.
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 250));
      proxy.reset_all();
    }
  });
  std::vector<Worker> workers(kWorkers);
  std::vector<std::future<void>> finished;
  for (int i = 0; i < kWorkers; ++i) {
    workers[static_cast<std::size_t>(i)].id = i;
    finished.push_back(asio::co_spawn(
        io, run_worker(*client, workers[static_cast<std::size_t>(i)], until), asio::use_future));
  }
  for (auto& f : finished) {
    if (f.wait_for(kDuration + 30s) != std::future_status::ready) {
      ADD_FAILURE() << "a worker hung";
      runners.stop();  // before `workers`, which the hung coroutine still refers to, goes
      return;
    }
    f.get();
  }
  resetter.request_stop();
  resetter.join();
  const std::size_t reconnects = client->stats().reconnects;
  client.reset();

  // What Redis holds, read directly (no proxy).
  RedisClient direct(io.get_executor(), server.settings());
  direct.connect(asio::use_future).get();
  int succeeded = 0, lost = 0;
  for (const Worker& w : workers) {
    SCOPED_TRACE("worker " + std::to_string(w.id));
    for (const std::string& violation : w.violations) ADD_FAILURE() << violation;
    succeeded += w.succeeded;
    lost += w.lost;
    for (int k = 0; k < kKeys; ++k) {
      const KeyState& state = w.keys[static_cast<std::size_t>(k)];
      const auto stored = direct.get(w.key(k), asio::use_future).get();
      const int seq = stored ? w.seq_of(k, *stored) : 0;
      EXPECT_GE(seq, state.acked) << w.key(k)
                                  << " lost an acknowledged SET: " << stored.value_or("(nil)");
      EXPECT_LE(seq, state.attempted) << w.key(k) << " holds a value never sent";
    }
    const auto counter = direct.get(w.counter(), asio::use_future).get();
    const std::int64_t value = counter ? std::stoll(*counter) : 0;
    EXPECT_GE(value, w.incr_ok) << "an acknowledged INCR is missing";
    EXPECT_LE(value, w.incr_ok + w.incr_uncertain) << "an INCR was applied twice";
  }
  int timed_out = 0;
  for (const Worker& w : workers) timed_out += w.timed_out;
  std::printf("soak: %d operations succeeded, %d lost, %d timed out; %zu resets, %zu reconnects\n",
              succeeded, lost, timed_out, proxy.resets(), reconnects);
  EXPECT_GT(succeeded, 2000) << "the load made progress";
  EXPECT_GT(lost, 0) << "the resets hit requests on the wire";
  EXPECT_GE(proxy.resets(), 20u);
  EXPECT_GE(reconnects, 20u);
}

}  // namespace
}  // namespace asyncredis
