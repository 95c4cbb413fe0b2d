// A cluster client through failovers under 16 writers on keys spread over every master: a
// planned one (CLUSTER FAILOVER on a replica: no failed request, no acknowledged write lost)
// and a crash (SIGKILL of a master: its replica is promoted after the node timeout, the client
// finds it by itself, nothing hangs, no INCR is applied twice; the killed node is started again
// afterwards and rejoins as a replica).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "asyncredis/asyncredis.hpp"
#include "cluster/slot.hpp"
#include "support/async_test.hpp"
#include "support/local_cluster.hpp"
#include "support/sentinel_load.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using test::LoadClock;
using test::run_async;
namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

constexpr std::size_t kWriters = 16;

std::chrono::milliseconds ms(LoadClock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d);
}

// Runs `step` (redis-cli calls, which block) on another thread while the writers go on, and
// returns what it threw ("" when nothing).
asio::awaitable<std::string> off_thread(const std::function<void()>& step) {
  std::atomic<bool> finished{false};
  std::string trouble;
  std::thread worker([&] {
    try {
      step();
    } catch (const std::exception& e) {
      trouble = e.what();
    }
    finished = true;
  });
  // The step gives up by itself (wait_ok's limit): this only keeps the io_context running.
  const bool done = co_await test::eventually([&] { return finished.load(); }, 90s);
  worker.join();
  if (!done) trouble = "the step did not finish";
  co_return trouble;
}

// Writers for the crash: INCR in a loop as test::Load's do, on the test's one thread, but each
// failure counted by its code (a crash gives connection_lost to a request on the wire, timeout
// to one that waited too long) and an acknowledged write lost is a figure, not a failure:
// Redis Cluster replicates asynchronously, so what the killed master acknowledged last may
// never have reached the replica that replaces it.
class CrashWriters {
 public:
  struct Writer {
    std::string key;
    long long attempts = 0;
    long long last_acked = 0;
    std::vector<LoadClock::time_point> acks;
    bool done = false;
  };

  void start(asio::io_context& io, RedisClient& client, const std::vector<std::string>& keys) {
    writers_.resize(keys.size());  // never again: the coroutines hold references
    for (std::size_t i = 0; i < keys.size(); ++i) {
      writers_[i].key = keys[i];
      asio::co_spawn(io, write(client, writers_[i]), asio::detached);
    }
  }
  void stop() { stopping_ = true; }
  bool finished() const {
    return std::all_of(writers_.begin(), writers_.end(), [](const Writer& w) { return w.done; });
  }

  const std::vector<Writer>& writers() const { return writers_; }
  const std::map<std::string, long long>& failures() const { return failures_; }
  std::chrono::milliseconds slowest() const { return slowest_; }

  // Whether each writer in `which` has `n` acknowledgements after `since`.
  bool acked_since(const std::vector<std::size_t>& which, LoadClock::time_point since,
                   std::size_t n) const {
    return std::all_of(which.begin(), which.end(), [&](std::size_t i) {
      const auto& acks = writers_[i].acks;
      return static_cast<std::size_t>(
                 std::count_if(acks.begin(), acks.end(), [&](auto t) { return t >= since; })) >= n;
    });
  }
  // The longest time after `since` in which no writer in `which` had an acknowledgement.
  std::chrono::milliseconds longest_gap(const std::vector<std::size_t>& which,
                                        LoadClock::time_point since) const {
    std::vector<LoadClock::time_point> acks;
    for (std::size_t i : which) {
      std::copy_if(writers_[i].acks.begin(), writers_[i].acks.end(), std::back_inserter(acks),
                   [&](auto t) { return t >= since; });
    }
    std::sort(acks.begin(), acks.end());
    auto previous = since;
    LoadClock::duration widest{0};
    for (auto t : acks) {
      widest = std::max(widest, t - previous);
      previous = t;
    }
    return ms(widest);
  }

 private:
  asio::awaitable<void> write(RedisClient& client, Writer& writer) {
    while (!stopping_) {
      const auto started = LoadClock::now();
      ++writer.attempts;
      try {
        writer.last_acked = co_await client.incr(writer.key, use_awaitable);
        writer.acks.push_back(LoadClock::now());
      } catch (const Error& e) {
        ++failures_[e.code().message()];
      }
      slowest_ = std::max(slowest_, ms(LoadClock::now() - started));
    }
    writer.done = true;
  }

  std::vector<Writer> writers_;
  std::map<std::string, long long> failures_;  // by the error code's message
  std::chrono::milliseconds slowest_{0};
  bool stopping_ = false;
};

// The writers' keys "<prefix><i>", checked to be spread over every master.
std::vector<std::string> spread_keys(const test::LocalCluster& cluster, const std::string& prefix) {
  std::vector<std::string> keys;
  std::set<std::uint16_t> owners;
  for (std::size_t i = 0; i < kWriters; ++i) {
    keys.push_back(prefix + std::to_string(i));
    owners.insert(cluster.master_of(detail::slot_of(keys.back())));
  }
  EXPECT_EQ(owners.size(), cluster.master_ports().size()) << "the keys miss a master";
  return keys;
}

// What a crash of a master under the writers showed.
struct CrashFigures {
  std::chrono::milliseconds promoted_after{0};  // the kill to the replica serving, cluster ok
  std::chrono::milliseconds window{0};          // no write of the victim's writers acknowledged
};

// SIGKILL of the master serving the first of 16 writers' keys ("<prefix><i>"), spread over every
// master: its replica must be promoted (node timeout), the client must find it by itself (every
// writer acknowledged again), no operation may hang, no INCR be applied twice. Prints what was
// seen, restarts the killed node (it rejoins as a replica: the suite has 6 nodes again) and
// returns the figures. `settings` are the client's (client_settings() when not given).
CrashFigures crash_a_master(test::LocalCluster& cluster, const std::string& prefix,
                            std::optional<RedisSettings> settings = std::nullopt) {
  if (!settings) settings = cluster.client_settings();
  CrashFigures figures;
  std::uint16_t victim = 0;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        const auto keys = spread_keys(cluster, prefix);
        victim = cluster.master_of(detail::slot_of(keys.front()));
        const std::uint16_t replica = cluster.replica_of(victim);
        std::vector<std::size_t> orphans;  // the writers whose keys the victim serves
        for (std::size_t i = 0; i < keys.size(); ++i) {
          if (cluster.master_of(detail::slot_of(keys[i])) == victim) orphans.push_back(i);
        }
        std::vector<std::size_t> all(keys.size());
        for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
        RedisClient client(io.get_executor(), *settings);
        const auto command_timeout = client.settings().command_timeout;
        co_await client.connect(use_awaitable);
        CrashWriters load;
        load.start(io, client, keys);
        const auto halt = [&]() -> asio::awaitable<bool> {
          load.stop();
          co_return co_await test::eventually([&] { return load.finished(); });
        };
        const bool started =
            co_await test::eventually([&] { return load.acked_since(all, {}, 5); });
        if (!started) {
          ADD_FAILURE() << "the writers did not start";
          co_await halt();
          co_return;
        }

        const auto killed_at = LoadClock::now();
        cluster.node_on(victim).stop();
        const std::function<void()> promotion = [&] { cluster.wait_master(replica); };
        const std::string trouble = co_await off_thread(promotion);
        EXPECT_EQ(trouble, "");
        const auto promoted_at = LoadClock::now();
        // The client finds the new master by itself: every writer, the victim's too, is
        // acknowledged again and again.
        const bool found =
            co_await test::eventually([&] { return load.acked_since(all, promoted_at, 20); }, 20s);
        EXPECT_TRUE(found) << "the victim's writers were not acknowledged after the promotion";
        CO_ASSERT_TRUE(co_await halt());

        // At most one INCR per attempt; what the victim acknowledged and lost, counted.
        long long lost = 0;
        for (const auto& writer : load.writers()) {
          const auto value = co_await client.get(writer.key, use_awaitable);
          const long long stored = value ? std::stoll(*value) : 0;
          EXPECT_LE(stored, writer.attempts) << writer.key;
          lost += std::max(0LL, writer.last_acked - stored);
        }
        long long failed = 0;
        std::string failures;
        for (const auto& [what, n] : load.failures()) {
          failed += n;
          failures += " " + std::to_string(n) + " " + what + ";";
        }
        const auto window = load.longest_gap(orphans, killed_at);
        std::cout << "[ cluster ] SIGKILL of master " << victim << " (" << orphans.size() << " of "
                  << keys.size() << " writers on it): replica " << replica
                  << " promoted and the cluster ok " << ms(promoted_at - killed_at).count()
                  << " ms after the kill; no write of its writers acknowledged for "
                  << window.count() << " ms; " << failed << " failed attempts:" << failures
                  << " slowest operation " << load.slowest().count() << " ms; " << lost
                  << " acknowledged INCRs lost with the master" << std::endl;
        ::testing::Test::RecordProperty("unavailability_ms", static_cast<int>(window.count()));
        figures = {ms(promoted_at - killed_at), window};
        EXPECT_LE(load.slowest(), command_timeout + 1000ms) << "an operation hung";
        co_await client.disconnect(use_awaitable);
      },
      120s);
  if (victim != 0) {
    cluster.node_on(victim).start();
    cluster.wait_ok();
  }
  return figures;
}

class ClusterFailover : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // A second without an answer and a master is failed over: short, and still long enough
    // that a node slowed by 16 writers on a shared machine is not taken for dead.
    cluster_ = new test::LocalCluster(test::LocalClusterOptions{.node_timeout = 1000ms});
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static inline test::LocalCluster* cluster_ = nullptr;
};

TEST_F(ClusterFailover, PlannedFailoverUnderSixteenWritersLosesNothing) {
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        const std::string prefix = "planned:w";
        const auto keys = spread_keys(*cluster_, prefix);
        const std::uint16_t slot = detail::slot_of(keys.front());
        const std::uint16_t old_master = cluster_->master_of(slot);
        const std::uint16_t replica = cluster_->replica_of(old_master);
        RedisClient client(io.get_executor(), cluster_->client_settings());
        co_await client.connect(use_awaitable);
        test::Load load(kWriters);
        load.start_writers(io, client, prefix);
        if (!co_await load.started()) co_return;

        const auto since = LoadClock::now();
        const std::function<void()> failover = [&] {
          cluster_->node_on(replica).cli({"CLUSTER", "FAILOVER"});
          cluster_->wait_master(replica);
        };
        const std::string trouble = co_await off_thread(failover);
        EXPECT_EQ(trouble, "");
        const auto promoted = LoadClock::now();
        // Every writer, those of the slots that changed hands too, goes on on the new layout.
        const bool went_on =
            co_await test::eventually([&] { return load.each_acked_since(promoted, 20); }, 20s);
        EXPECT_TRUE(went_on) << load.some_errors();
        CO_ASSERT_TRUE(co_await load.halt());
        std::cout << "[ cluster ] CLUSTER FAILOVER of " << old_master << " to " << replica
                  << ": cluster ok with the replica as master " << ms(promoted - since).count()
                  << " ms after it was asked" << std::endl;
        co_await load.conclude(client, since, "CLUSTER FAILOVER",
                               client.settings().command_timeout);
        EXPECT_EQ(load.failures(), 0) << load.some_errors();
        EXPECT_EQ(cluster_->master_of(slot), replica);
        co_await client.disconnect(use_awaitable);
      },
      120s);
}

TEST_F(ClusterFailover, KilledMasterIsReplacedAndTheClientFindsTheNewOne) {
  crash_a_master(*cluster_, "crash:w");
}

// Issue 12: "requests for its slots fail or wait only until the replica is promoted". The
// victim's writers should be acknowledged again soon after the promotion (1 s of slack for the
// polling here and a refresh of the map), not after their whole command_timeout (5 s).
TEST_F(ClusterFailover, KilledMastersWritersWaitOnlyUntilItsReplicaIsPromoted) {
  const CrashFigures figures = crash_a_master(*cluster_, "orphan:w");
  EXPECT_LE(figures.window, figures.promoted_after + 1000ms)
      << "the killed master's writers waited for their command_timeout, not for the promotion";
}

// The same with the map read every 100 ms, so that the client knows the new master soon after
// the promotion: requests already waiting in the dead node's pool should follow the slot there.
TEST_F(ClusterFailover, RequestsWaitingForAKilledMasterFollowItsSlotsOnceTheMapChanges) {
  RedisSettings settings = cluster_->client_settings();
  settings.cluster.refresh_interval = 100ms;
  const CrashFigures figures = crash_a_master(*cluster_, "waiting:w", settings);
  EXPECT_LE(figures.window, figures.promoted_after + 1000ms)
      << "requests queued on the dead node waited for their timeout though the map had changed";
}

}  // namespace
}  // namespace asyncredis
