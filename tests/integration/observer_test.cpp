// The hooks against a real redis-server: a CommandObserver's events (success, error reply,
// timeout, lost connection, retry, pipeline, transaction, refusal) and a Logger's connection
// events (connected, lost, reconnect failed, handshake failed, health check failed).
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/command_metrics.hpp"
#include "asyncredis/observer.hpp"
#include "support/async_test.hpp"
#include "support/fault_helpers.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::failure_of;
using test::FaultProxy;
using test::run_async;
using test::use_awaitable;
using test::wire_size;
namespace asio = boost::asio;

struct Recorded {
  std::string command;
  std::string node;
  std::chrono::nanoseconds latency{0};
  std::error_code error;
  std::size_t bytes_out = 0;
  std::size_t bytes_in = 0;
  std::uint32_t retries = 0;
};

class Recorder final : public CommandObserver {
 public:
  void on_start(std::string_view command, std::string_view node) noexcept override {
    std::lock_guard lock(mutex_);
    starts_.emplace_back(std::string(command) + "@" + std::string(node));
  }
  void on_end(const CommandEvent& e) noexcept override {
    std::lock_guard lock(mutex_);
    ends_.push_back(Recorded{std::string(e.command), std::string(e.node), e.latency, e.error,
                             e.bytes_out, e.bytes_in, e.retries});
  }
  std::vector<Recorded> ends() const {
    std::lock_guard lock(mutex_);
    return ends_;
  }
  std::vector<std::string> starts() const {
    std::lock_guard lock(mutex_);
    return starts_;
  }
  std::size_t size() const { return ends().size(); }
  // The last event of `command`; an empty one if there is none.
  Recorded last(std::string_view command) const {
    std::lock_guard lock(mutex_);
    for (auto it = ends_.rbegin(); it != ends_.rend(); ++it) {
      if (it->command == command) return *it;
    }
    return {};
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> starts_;
  std::vector<Recorded> ends_;
};

struct LogRecord {
  LogLevel level;
  std::string message;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string field(std::string_view name) const {
    for (const auto& [n, v] : fields) {
      if (n == name) return v;
    }
    return {};
  }
};

class LogRecorder final : public Logger {
 public:
  void log(LogLevel level, std::string_view message,
           std::span<const LogField> fields) noexcept override {
    LogRecord record{level, std::string(message), {}};
    for (const LogField& f : fields) record.fields.emplace_back(f.name, f.value);
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(record));
  }
  std::vector<LogRecord> with(std::string_view message) const {
    std::lock_guard lock(mutex_);
    std::vector<LogRecord> out;
    for (const auto& r : records_) {
      if (r.message == message) out.push_back(r);
    }
    return out;
  }
  std::size_t count(std::string_view message) const { return with(message).size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<LogRecord> records_;
};

std::string node_of(const RedisSettings& settings) {
  return settings.host + ":" + std::to_string(settings.port);
}

class Observer : public test::SharedServerTest {};

TEST_F(Observer, ReportsASuccessWithNodeLatencyAndExactBytes) {
  auto recorder = std::make_shared<Recorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.max_connections = 1;
    settings.observer = recorder;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    EXPECT_EQ(recorder->size(), 0u) << "the handshake is the library's, not a command";
    co_await client.set("obs:k", "hello", use_awaitable);
    auto value = co_await client.get("obs:k", use_awaitable);
    EXPECT_EQ(value, "hello");
    co_await client.get("obs:missing", use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
  const std::string node = node_of(server_->settings());
  const auto events = recorder->ends();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].command, "SET");
  EXPECT_EQ(events[0].node, node);
  EXPECT_FALSE(events[0].error);
  EXPECT_EQ(events[0].bytes_out, wire_size("SET", "obs:k", "hello"));
  EXPECT_EQ(events[0].bytes_in, std::string("+OK\r\n").size());
  EXPECT_EQ(events[1].command, "GET");
  EXPECT_EQ(events[1].bytes_out, wire_size("GET", "obs:k"));
  EXPECT_EQ(events[1].bytes_in, std::string("$5\r\nhello\r\n").size());
  EXPECT_GT(events[1].latency, 0ns);
  EXPECT_LT(events[1].latency, 5s);
  EXPECT_EQ(events[1].retries, 0u);
  EXPECT_EQ(events[2].bytes_in, std::string("$-1\r\n").size());
  EXPECT_EQ(recorder->starts(),
            (std::vector<std::string>{"SET@" + node, "GET@" + node, "GET@" + node}));
}

TEST_F(Observer, AnErrorReplyIsAServerError) {
  auto recorder = std::make_shared<Recorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.observer = recorder;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("obs:text", "abc", use_awaitable);
    const errc failed =
        co_await failure_of(client.command<long long>("incr", "obs:text", use_awaitable));
    EXPECT_EQ(failed, errc::server_error);
    co_await client.disconnect(use_awaitable);
  });
  const Recorded incr = recorder->last("INCR");
  EXPECT_EQ(incr.error, make_error_code(errc::server_error)) << "named upper-cased";
  EXPECT_GT(incr.bytes_in, 0u);
}

TEST_F(Observer, PipelinesAndTransactionsAreOneEventEach) {
  auto recorder = std::make_shared<Recorder>();
  Pipeline pipeline;
  pipeline.add("SET", "obs:a", "1").add("INCR", "obs:a").add("GET", "obs:a");
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.observer = recorder;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.execute(pipeline, use_awaitable);
    co_await client.transaction(pipeline, use_awaitable);
    co_await client.disconnect(use_awaitable);
  });
  const auto events = recorder->ends();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].command, "PIPELINE");
  EXPECT_EQ(events[0].bytes_out, pipeline.payload().size());
  // +OK, :2, $1 2
  EXPECT_EQ(events[0].bytes_in, std::string("+OK\r\n:2\r\n$1\r\n2\r\n").size());
  EXPECT_FALSE(events[0].error);
  EXPECT_EQ(events[1].command, "MULTI");
  // +OK (MULTI), three +QUEUED, then EXEC's array: every reply read counts.
  EXPECT_EQ(
      events[1].bytes_in,
      std::string("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n").size());
  EXPECT_FALSE(events[1].error);
}

TEST_F(Observer, LeasesAreObservedAndRefusalsHaveNoNode) {
  auto recorder = std::make_shared<Recorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server_->settings();
    settings.observer = recorder;
    RedisClient client(io.get_executor(), settings);
    const errc early = co_await failure_of(client.get("obs:k", use_awaitable));
    EXPECT_EQ(early, errc::not_connected);
    co_await client.connect(use_awaitable);
    const errc refused = co_await failure_of(client.command<void>("SELECT", 2, use_awaitable));
    EXPECT_EQ(refused, errc::invalid_argument);
    {
      Lease lease = co_await client.lease(use_awaitable);
      co_await lease.command<void>("WATCH", "obs:k", use_awaitable);
    }
    co_await client.disconnect(use_awaitable);
  });
  const auto events = recorder->ends();
  ASSERT_EQ(events.size(), 3u) << "the lease's reset (DISCARD, UNWATCH) is not reported";
  EXPECT_EQ(events[0].command, "GET");
  EXPECT_EQ(events[0].node, "");
  EXPECT_EQ(events[0].error, make_error_code(errc::not_connected));
  EXPECT_EQ(events[1].command, "SELECT");
  EXPECT_EQ(events[1].node, "");
  EXPECT_EQ(events[1].error, make_error_code(errc::invalid_argument));
  EXPECT_EQ(events[2].command, "WATCH");
  EXPECT_EQ(events[2].node, node_of(server_->settings()));
  EXPECT_FALSE(events[2].error);
}

TEST_F(Observer, OnlyTheClientWithAnObserverReportsToIt) {
  auto recorder = std::make_shared<Recorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient plain(io.get_executor(), server_->settings());
    RedisSettings settings = server_->settings();
    settings.observer = recorder;
    RedisClient watched(io.get_executor(), settings);
    co_await plain.connect(use_awaitable);
    co_await watched.connect(use_awaitable);
    for (int i = 0; i < 10; ++i) co_await plain.get("obs:k", use_awaitable);
    co_await watched.command<void>("PING", use_awaitable);
    co_await plain.disconnect(use_awaitable);
    co_await watched.disconnect(use_awaitable);
  });
  ASSERT_EQ(recorder->size(), 1u);
  EXPECT_EQ(recorder->ends()[0].command, "PING");
}

// Through a proxy whose faults the tests set; fast reconnects, no health check.
RedisSettings through(const FaultProxy& proxy, const test::RedisServer& server) {
  RedisSettings settings = proxy.settings(server.settings());
  settings.max_connections = 1;
  settings.reconnect_min_delay = 10ms;
  settings.reconnect_max_delay = 50ms;
  settings.health_check_interval = 0ms;
  return settings;
}

TEST(ObserverFaults, LostConnectionRetryAndTimeout) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  auto recorder = std::make_shared<Recorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = through(proxy, server);
    settings.observer = recorder;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("obs:k", "v", use_awaitable);

    // The open connection stops answering; the one that replaces it is healthy.
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    const Commands retrying = client.with({.retry_on_reconnect = true});
    std::optional<errc> lost, retried;
    client.get("obs:k",
               [&](std::exception_ptr e, std::optional<std::string>) { lost = test::code_of(e); });
    retrying.get("obs:k", [&](std::exception_ptr e, std::optional<std::string> value) {
      retried = test::code_of(e);
      EXPECT_EQ(value, "v");
    });
    const std::size_t gets = 2 * wire_size("GET", "obs:k");
    CO_ASSERT_TRUE(co_await eventually(
        [&] { return proxy.bytes_held(FaultProxy::Direction::to_server) >= gets; }));
    proxy.reset_all();
    CO_ASSERT_TRUE(co_await eventually([&] { return lost && retried; }));
    EXPECT_EQ(*lost, errc::connection_lost);
    EXPECT_EQ(*retried, errc{});
    // The new connection stops answering too: a request times out.
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    const Commands impatient = client.with_timeout(100ms);
    const errc timed_out =
        co_await failure_of(impatient.command<void>("ECHO", "late", use_awaitable));
    EXPECT_EQ(timed_out, errc::timeout);
    co_await client.disconnect(use_awaitable);
  });
  EXPECT_EQ(recorder->last("ECHO").error, make_error_code(errc::timeout));
  EXPECT_GE(recorder->last("ECHO").latency, 100ms);
  const auto events = recorder->ends();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].command, "GET");
  EXPECT_EQ(events[1].error, make_error_code(errc::connection_lost));
  EXPECT_EQ(events[1].retries, 0u);
  EXPECT_EQ(events[2].command, "GET");
  EXPECT_FALSE(events[2].error);
  EXPECT_EQ(events[2].retries, 1u) << "sent again on the new connection";
  EXPECT_EQ(events[2].bytes_out, wire_size("GET", "obs:k"));
  EXPECT_EQ(events[2].bytes_in, std::string("$1\r\nv\r\n").size());
  EXPECT_EQ(events[3].command, "ECHO");
}

TEST(ObserverLogger, ConnectedLostAndReconnectFailed) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  auto logger = std::make_shared<LogRecorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = through(proxy, server);
    settings.logger = logger;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    CO_ASSERT_EQ(logger->count("connected"), 1u);
    const LogRecord connected = logger->with("connected").front();
    EXPECT_EQ(connected.level, LogLevel::info);
    EXPECT_EQ(connected.field("node"), "127.0.0.1:" + std::to_string(proxy.port()));
    EXPECT_FALSE(connected.field("connection").empty());

    proxy.refuse(FaultProxy::Refuse::not_listening);
    proxy.reset_all();
    CO_ASSERT_TRUE(co_await eventually([&] { return logger->count("reconnect failed") >= 1; }));
    const LogRecord lost = logger->with("connection lost").front();
    EXPECT_EQ(lost.level, LogLevel::warning);
    EXPECT_NE(lost.field("reason").find("read failed"), std::string::npos) << lost.field("reason");
    EXPECT_EQ(lost.field("connection"), connected.field("connection"));
    const LogRecord failed = logger->with("reconnect failed").front();
    EXPECT_NE(failed.field("reason").find("connect failed"), std::string::npos)
        << failed.field("reason");
    EXPECT_FALSE(failed.field("retry_in_ms").empty());

    proxy.refuse(FaultProxy::Refuse::no);
    CO_ASSERT_TRUE(co_await eventually([&] { return logger->count("connected") == 2; }));
    EXPECT_EQ(logger->with("connected").back().field("reconnect"), "true");
    co_await client.disconnect(use_awaitable);
  });
  EXPECT_EQ(logger->count("health check failed"), 0u);
}

TEST(ObserverLogger, HealthCheckFailure) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  auto logger = std::make_shared<LogRecorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = through(proxy, server);
    settings.health_check_interval = 100ms;
    settings.logger = logger;
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    for (std::size_t id : proxy.connection_ids()) proxy.blackhole_connection(id, true);
    CO_ASSERT_TRUE(co_await eventually([&] { return logger->count("health check failed") >= 1; }));
    EXPECT_EQ(logger->with("health check failed").front().level, LogLevel::warning);
    CO_ASSERT_TRUE(co_await eventually([&] { return logger->count("connected") >= 2; }));
    co_await client.disconnect(use_awaitable);
  });
}

TEST(ObserverLogger, HandshakeFailureNamesTheReasonNotThePassword) {
  test::RedisServerOptions options;
  options.password = "s3cret-pass";
  test::RedisServer server(options);
  auto logger = std::make_shared<LogRecorder>();
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = server.settings();
    settings.password = "wrong-pass";
    settings.max_connections = 1;
    settings.logger = logger;
    RedisClient client(io.get_executor(), settings);
    const errc failed = co_await failure_of(client.connect(use_awaitable));
    EXPECT_EQ(failed, errc::auth_failed);
  });
  const auto records = logger->with("handshake failed");
  ASSERT_GE(records.size(), 1u);
  EXPECT_EQ(records.front().level, LogLevel::error);
  EXPECT_FALSE(records.front().field("reason").empty());
  for (const auto& [name, value] : records.front().fields) {
    EXPECT_EQ(value.find("wrong-pass"), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace asyncredis
