// ClientTracking against real redis-servers: what another client's writes (SET, DEL, EXPIRE,
// FLUSHDB, EVAL, eviction under maxmemory) report for a key the tracked client read; the
// invalidation connection or a data connection killed (lost, then on again with the new id,
// and invalidations flowing again); BCAST with a prefix; the ways construction fails; and
// silence once the ClientTracking is gone.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/redis_server.hpp"
#include "support/tracking_recorder.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;
using Kind = TrackingEvent::Kind;
using test::Recorder;

// The error code `construct` throws; errc{} when it throws nothing.
template <class Construct>
errc thrown_by(Construct&& construct) {
  try {
    construct();
  } catch (const Error& e) {
    return static_cast<errc>(e.code().value());
  }
  return errc{};
}

// `reached`, after adding a failure naming the losses reported when it is false.
bool explained(bool reached, const Recorder& events) {
  if (!reached) ADD_FAILURE() << "timed out; losses reported: " << events.reasons();
  return reached;
}

// A client with a ClientTracking on it, recording its events.
// Tracking starts once every connection is up, so that none comes up untracked afterwards
// (which is a `lost`, then `on` again: see TrackingStartedBeforeTheConnectionsCameUp).
struct Tracked {
  Tracked(asio::io_context& io, const RedisSettings& settings, TrackingOptions options = {})
      : client(io.get_executor(), settings), options(std::move(options)) {}
  // Connects the client and waits for tracking to be on.
  asio::awaitable<bool> start() {
    co_await client.connect(use_awaitable);
    const std::size_t pool = client.stats().connections;
    if (!co_await eventually([this, pool] { return client.stats().connected == pool; })) {
      co_return false;
    }
    tracking.emplace(client, options, events.callback());
    co_return co_await eventually([this] { return tracking->active(); });
  }
  RedisClient client;
  TrackingOptions options;
  Recorder events;
  std::optional<ClientTracking> tracking;
};

class Tracking : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static RedisSettings settings() {
    RedisSettings s = server_->settings();
    s.max_connections = 2;
    return s;
  }
  // Runs `body` on a started Tracked client of the suite's server (tracking on).
  using Body = std::function<asio::awaitable<void>(RedisClient&, Recorder&, ClientTracking&)>;
  static void with_tracked(const Body& body, const TrackingOptions& options = {}) {
    run_async([&](asio::io_context& io) -> asio::awaitable<void> {
      Tracked t(io, settings(), options);
      CO_ASSERT_TRUE(co_await t.start());
      co_await body(t.client, t.events, *t.tracking);
    });
  }
  static inline test::RedisServer* server_ = nullptr;
};

// Reads `key` through the tracked client (so that the server tracks it), has another client
// run `write`, and waits for the invalidation of `key`.
asio::awaitable<bool> read_then_expect_invalidation(RedisClient& client, const Recorder& events,
                                                    const test::RedisServer& server,
                                                    const char* key,
                                                    const std::vector<std::string>& write) {
  // A const char*: GCC 12 must not see a std::string temporary in the co_await (README).
  const std::string name = key;
  co_await client.get(name, use_awaitable);
  server.cli(write);
  co_return co_await eventually([&] { return events.invalidated(name); });
}

TEST_F(Tracking, AnotherClientsWritesInvalidateAKeyRead) {
  with_tracked(
      [](RedisClient& client, Recorder& events, ClientTracking& tracking) -> asio::awaitable<void> {
        EXPECT_EQ(events.count(Kind::on), 1u);
        EXPECT_TRUE(tracking.redirect_id().has_value());
        server_->cli({"SET", "t:set", "1"});
        server_->cli({"SET", "t:del", "1"});
        server_->cli({"SET", "t:lua", "1"});
        // Named: GCC 12 cannot hold a braced list inside a co_await expression (README).
        const std::vector<std::string> set{"SET", "t:set", "2"};
        const std::vector<std::string> del{"DEL", "t:del"};
        const std::vector<std::string> lua{"EVAL", "redis.call('SET', KEYS[1], 'x') return 1", "1",
                                           "t:lua"};
        EXPECT_TRUE(co_await read_then_expect_invalidation(client, events, *server_, "t:set", set));
        EXPECT_TRUE(co_await read_then_expect_invalidation(client, events, *server_, "t:del", del));
        EXPECT_TRUE(co_await read_then_expect_invalidation(client, events, *server_, "t:lua", lua));
        // Expiry: nobody writes after the read; the server invalidates when the key expires.
        server_->cli({"SET", "t:expire", "1", "PX", "1000"});
        const std::optional<std::string> before = co_await client.get("t:expire", use_awaitable);
        EXPECT_TRUE(before.has_value()) << "expired before it was read: the machine is too slow";
        EXPECT_TRUE(co_await eventually([&] { return events.invalidated("t:expire"); }));
        // Everything stays on meanwhile.
        EXPECT_TRUE(tracking.active());
        EXPECT_EQ(events.count(Kind::lost), 0u) << events.reasons();
      });
}

TEST_F(Tracking, FlushdbIsAFlushAndBumpsTheEpoch) {
  with_tracked(
      [](RedisClient& client, Recorder& events, ClientTracking& tracking) -> asio::awaitable<void> {
        co_await client.get("t:flush", use_awaitable);
        const std::uint64_t epoch = tracking.epoch();
        server_->cli({"FLUSHDB"});
        // One null message per tracked connection (the server sends one for each): 2 here.
        CO_ASSERT_TRUE(co_await eventually([&] { return events.count(Kind::flushed) == 2; }));
        EXPECT_EQ(tracking.epoch(), epoch + 2);
        EXPECT_EQ(events.last().epoch, epoch + 2);
        EXPECT_TRUE(tracking.active());  // a flush is no loss of tracking
      });
}

TEST_F(Tracking, EvictionUnderMaxmemoryInvalidates) {
  test::RedisServerOptions options;
  options.extra_args = {"--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"};
  test::RedisServer server(options);
  run_async([&server](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings s = server.settings();
    s.max_connections = 1;
    RedisClient client(io.get_executor(), s);
    co_await client.connect(use_awaitable);
    RedisClient writer(io.get_executor(), server.settings());
    co_await writer.connect(use_awaitable);
    Recorder events;
    ClientTracking tracking(client, {}, events.callback());
    CO_ASSERT_TRUE(co_await eventually([&] { return tracking.active(); }));
    co_await writer.set("t:victim", "old", use_awaitable);
    co_await client.get("t:victim", use_awaitable);
    // Fill far past maxmemory with keys never read again: the LRU victim goes first.
    const std::string blob(64 * 1024, 'x');
    for (int i = 0; i < 400 && !events.invalidated("t:victim"); ++i) {
      const std::string key = "t:fill:" + std::to_string(i);
      co_await writer.set(key, blob, use_awaitable);
    }
    EXPECT_TRUE(co_await eventually([&] { return events.invalidated("t:victim"); }));
    const std::vector<std::string> victim{"t:victim"};
    EXPECT_EQ(co_await writer.exists(victim, use_awaitable), 0);
  });
}

TEST_F(Tracking, InvalidationConnectionKilledIsLostThenOnWithTheNewId) {
  with_tracked([](RedisClient& client, Recorder& events,
                  ClientTracking& tracking) -> asio::awaitable<void> {
    const std::int64_t old_id = *tracking.redirect_id();
    const std::uint64_t epoch = tracking.epoch();
    const std::size_t ons = events.count(Kind::on);
    server_->cli({"CLIENT", "KILL", "ID", std::to_string(old_id)});
    CO_ASSERT_TRUE(co_await eventually([&] { return events.count(Kind::lost) >= 1; }));
    EXPECT_GT(tracking.epoch(), epoch);
    {
      const bool reached = co_await eventually([&] { return events.count(Kind::on) > ons; });
      CO_ASSERT_TRUE(explained(reached, events));
    }
    CO_ASSERT_TRUE(tracking.active());
    CO_ASSERT_TRUE(tracking.redirect_id().has_value());
    EXPECT_NE(*tracking.redirect_id(), old_id);
    // Every data connection now redirects to the new id: invalidations flow again.
    const std::string redirect = server_->cli({"CLIENT", "LIST", "TYPE", "normal"});
    EXPECT_NE(redirect.find("redir=" + std::to_string(*tracking.redirect_id())), std::string::npos)
        << redirect;
    EXPECT_EQ(redirect.find("redir=" + std::to_string(old_id)), std::string::npos) << redirect;
    const std::vector<std::string> set{"SET", "t:after-kill", "2"};
    EXPECT_TRUE(
        co_await read_then_expect_invalidation(client, events, *server_, "t:after-kill", set));
  });
}

TEST_F(Tracking, DataConnectionKilledIsLostThenOnAgain) {
  with_tracked(
      [](RedisClient& client, Recorder& events, ClientTracking& tracking) -> asio::awaitable<void> {
        // The data connections are the "normal" ones; redis-cli skips itself.
        server_->cli({"CLIENT", "KILL", "TYPE", "normal"});
        CO_ASSERT_TRUE(co_await eventually([&] { return events.count(Kind::lost) >= 1; }));
        {
          const bool reached = co_await eventually([&] { return tracking.active(); });
          CO_ASSERT_TRUE(explained(reached, events));
        }
        EXPECT_EQ(events.last().kind, Kind::on);
        const std::vector<std::string> set{"SET", "t:reconnected", "2"};
        EXPECT_TRUE(
            co_await read_then_expect_invalidation(client, events, *server_, "t:reconnected", set));
      });
}

TEST_F(Tracking, BroadcastWithAPrefixInvalidatesKeysNeverRead) {
  TrackingOptions options;
  options.broadcast = true;
  options.prefixes = {"bc:"};
  with_tracked(
      [](RedisClient&, Recorder& events, ClientTracking& tracking) -> asio::awaitable<void> {
        server_->cli({"SET", "other:x", "1"});
        server_->cli({"SET", "bc:x", "1"});
        CO_ASSERT_TRUE(co_await eventually([&] { return events.invalidated("bc:x"); }));
        // Messages come in order: the write before bc:x would have been reported first.
        EXPECT_FALSE(events.invalidated("other:x"));
        // After a reconnect of the subscriber, BCAST is set up again (off, then on).
        const std::size_t ons = events.count(Kind::on);
        server_->cli({"CLIENT", "KILL", "ID", std::to_string(*tracking.redirect_id())});
        {
          const bool reached = co_await eventually([&] { return events.count(Kind::on) > ons; });
          CO_ASSERT_TRUE(explained(reached, events));
        }
        server_->cli({"SET", "bc:y", "1"});
        EXPECT_TRUE(co_await eventually([&] { return events.invalidated("bc:y"); }))
            << server_->cli({"CLIENT", "LIST"});
      },
      options);
}

// Tracking made before the client connects: each connection that comes up before the
// subscriber is ready comes up untracked and is tracked afterwards; it ends on, and works.
TEST_F(Tracking, TrackingStartedBeforeTheConnectionsCameUp) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings());
    Recorder events;
    ClientTracking tracking(client, {}, events.callback());
    co_await client.connect(use_awaitable);
    CO_ASSERT_TRUE(
        co_await eventually([&] { return client.stats().connected == 2 && tracking.active(); }));
    const std::vector<std::string> set{"SET", "t:early", "2"};
    EXPECT_TRUE(co_await read_then_expect_invalidation(client, events, *server_, "t:early", set));
    // Every `lost` was followed by an `on`: the last event is not a loss.
    EXPECT_NE(events.last().kind, Kind::lost);
  });
}

TEST_F(Tracking, RefusesWhatCannotWork) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings());
    Recorder events;
    TrackingOptions prefixes_only;
    prefixes_only.prefixes = {"p:"};
    EXPECT_EQ(thrown_by([&] { ClientTracking t(client, prefixes_only, events.callback()); }),
              errc::invalid_argument);
    EXPECT_EQ(thrown_by([&] { ClientTracking t(client, {}, nullptr); }), errc::invalid_argument);
    ClientTracking first(client, {}, events.callback());
    EXPECT_EQ(thrown_by([&] { ClientTracking t(client, {}, events.callback()); }),
              errc::invalid_argument);
    co_return;
  });
}

// A server that refuses CLIENT TRACKING (here: BCAST with overlapping prefixes) leaves the
// client working, untracked, and says why.
TEST_F(Tracking, RefusedTrackingIsLostAndTheClientStillWorks) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings());
    co_await client.connect(use_awaitable);
    Recorder events;
    TrackingOptions overlapping;
    overlapping.broadcast = true;
    overlapping.prefixes = {"a:", "a:b"};
    ClientTracking tracking(client, overlapping, events.callback());
    CO_ASSERT_TRUE(co_await eventually([&] { return events.count(Kind::lost) >= 1; }));
    EXPECT_NE(events.reasons().find("CLIENT TRACKING failed"), std::string::npos)
        << events.reasons();
    EXPECT_FALSE(tracking.active());
    co_await client.set("t:still", "works", use_awaitable);
    EXPECT_EQ(co_await client.get("t:still", use_awaitable), "works");
  });
}

TEST_F(Tracking, NothingIsReportedOnceDestroyed) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings());
    co_await client.connect(use_awaitable);
    auto events = std::make_shared<Recorder>();
    std::optional<ClientTracking> tracking;
    tracking.emplace(client, TrackingOptions{}, events->callback());
    CO_ASSERT_TRUE(co_await eventually([&] { return tracking->active(); }));
    co_await client.get("t:gone", use_awaitable);
    tracking.reset();
    const std::size_t seen = events->size();
    server_->cli({"SET", "t:gone", "2"});
    // The live connections were told CLIENT TRACKING off.
    CO_ASSERT_TRUE(co_await eventually([&] {
      const std::string list = server_->cli({"CLIENT", "LIST", "TYPE", "normal"});
      return list.find("flags=t") == std::string::npos;
    }));
    EXPECT_EQ(events->size(), seen);
    // And tracking can start again on the same client.
    ClientTracking again(client, {}, events->callback());
    EXPECT_TRUE(co_await eventually([&] { return again.active(); }));
  });
}

}  // namespace
}  // namespace asyncredis
