// The fault-injecting proxy itself, seen from a raw socket: each fault does what it says, so
// the client tests that rely on it (faults_*_test.cpp) prove what they claim.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "support/async_test.hpp"
#include "support/fault_proxy.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::FaultProxy;
using test::run_async;
namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Direction = FaultProxy::Direction;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Received {
  std::string data;
  boost::system::error_code error;  // of the last read (operation_aborted: the time ran out)
  int reads = 0;
};

// Reads until `want` bytes, an error, or `limit`.
asio::awaitable<Received> receive(tcp::socket& socket, std::size_t want,
                                  std::chrono::milliseconds limit) {
  Received got;
  asio::steady_timer timer(socket.get_executor(), limit);
  timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) socket.cancel();
  });
  char buffer[65536];
  while (got.data.size() < want) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
    if (ec) {
      got.error = ec;
      break;
    }
    got.data.append(buffer, n);
    ++got.reads;
  }
  timer.cancel();
  co_return got;
}

asio::awaitable<tcp::socket> open(const FaultProxy& proxy) {
  tcp::socket socket(co_await asio::this_coro::executor);
  const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), proxy.port());
  co_await socket.async_connect(endpoint, asio::use_awaitable);
  co_return socket;
}

asio::awaitable<void> send(tcp::socket& socket, std::string_view bytes) {
  co_await asio::async_write(socket, asio::buffer(bytes), asio::use_awaitable);
}

// What arrives within `limit` (at most `want` bytes).
asio::awaitable<std::string> text(tcp::socket& socket, std::size_t want,
                                  std::chrono::milliseconds limit = 2s) {
  Received got = co_await receive(socket, want, limit);
  co_return got.data;
}

// The proxy accepts on its own thread: a client's connect can complete (in the kernel's
// backlog) before the proxy has seen the connection.
asio::awaitable<void> wait_accepted(const FaultProxy& proxy, std::size_t count) {
  EXPECT_TRUE(co_await eventually([&] { return proxy.accepted() >= count; }));
  EXPECT_EQ(proxy.accepted(), count);
}

std::string echo_command(const std::string& payload) {
  return "*2\r\n$4\r\nECHO\r\n$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
}

std::string bulk(const std::string& payload) {
  return "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n";
}

// Named, so that no temporary std::string sits inside a co_await expression (GCC 12).
const std::string ping = "PING\r\n";
const std::string pong = "+PONG\r\n";

TEST(FaultProxy, ForwardsTransparently) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    const std::string request = echo_command(std::string(100000, 'p'));
    const std::string expected = bulk(std::string(100000, 'p'));
    co_await send(socket, request);
    std::string got = co_await text(socket, expected.size(), 5s);
    EXPECT_EQ(got, expected);
    EXPECT_EQ(proxy.accepted(), 1u);
    EXPECT_EQ(proxy.connection_ids(), std::vector<std::size_t>{0});
    // Counted before each write: what the client has read is counted already.
    EXPECT_EQ(proxy.bytes_forwarded(Direction::to_client), expected.size());
    EXPECT_EQ(proxy.bytes_forwarded(Direction::to_server), request.size());
  });
}

TEST(FaultProxy, ChunksArriveSeparately) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    // 1-byte pieces at 10 kB/s: 100 us apart, far longer than a read takes.
    proxy.set_chunk_size(1, Direction::to_client);
    proxy.set_bandwidth(10000, Direction::to_client);
    const std::string request = echo_command(std::string(200, 'c'));
    const std::string expected = bulk(std::string(200, 'c'));
    co_await send(socket, request);
    Received got = co_await receive(socket, expected.size(), 5s);
    EXPECT_EQ(got.data, expected);
    EXPECT_GT(got.reads, 20) << "the reply came in too few pieces";
  });
}

TEST(FaultProxy, LatencyHoldsEachRead) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    proxy.set_latency(100ms);  // both ways
    const auto start = Clock::now();
    co_await send(socket, ping);
    std::string got = co_await text(socket, pong.size());
    EXPECT_EQ(got, pong);
    EXPECT_GE(Clock::now() - start, 200ms);
    proxy.set_latency(0ms);
    const auto again = Clock::now();
    co_await send(socket, ping);
    got = co_await text(socket, pong.size());
    EXPECT_EQ(got, pong);
    EXPECT_LT(Clock::now() - again, 100ms);
  });
}

TEST(FaultProxy, LatencyOnOneConnection) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket slow = co_await open(proxy);
    tcp::socket fast = co_await open(proxy);
    co_await wait_accepted(proxy, 2);
    EXPECT_TRUE(proxy.set_connection_latency(0, 300ms, Direction::to_client));
    EXPECT_FALSE(proxy.set_connection_latency(7, 300ms));
    const auto start = Clock::now();
    co_await send(slow, ping);
    co_await send(fast, ping);
    std::string reply = co_await text(fast, pong.size());
    EXPECT_EQ(reply, pong);
    EXPECT_LT(Clock::now() - start, 300ms);
    reply = co_await text(slow, pong.size());
    EXPECT_EQ(reply, pong);
    EXPECT_GE(Clock::now() - start, 300ms);
  });
}

TEST(FaultProxy, BandwidthCap) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    proxy.set_bandwidth(200000, Direction::to_client);
    const std::string request = echo_command(std::string(100000, 'b'));
    const std::string expected = bulk(std::string(100000, 'b'));
    const auto start = Clock::now();
    co_await send(socket, request);
    std::string got = co_await text(socket, expected.size(), 10s);
    const auto took = Clock::now() - start;
    EXPECT_EQ(got, expected);
    EXPECT_GE(took, 400ms);
    EXPECT_LT(took, 3s);
  });
}

TEST(FaultProxy, DropAfterForwardsExactlyThatManyBytesThenResets) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    co_await send(socket, ping);  // before the rule: not counted
    std::string got = co_await text(socket, pong.size());
    EXPECT_EQ(got, pong);
    proxy.drop_after(10, Direction::to_client);
    const std::string request = echo_command(std::string(1000, 'd'));
    const std::string expected = bulk(std::string(1000, 'd'));
    co_await send(socket, request);
    Received cut = co_await receive(socket, expected.size(), 5s);
    EXPECT_EQ(cut.data, expected.substr(0, 10));
    EXPECT_EQ(cut.error, asio::error::connection_reset) << cut.error.message();
    EXPECT_EQ(proxy.resets(), 1u);
    // The rule stays armed, with a fresh budget per connection.
    tcp::socket second = co_await open(proxy);
    co_await send(second, request);
    got = co_await text(second, expected.size());
    EXPECT_EQ(got.size(), 10u);
    proxy.clear_drop();
    tcp::socket third = co_await open(proxy);
    co_await send(third, request);
    got = co_await text(third, expected.size());
    EXPECT_EQ(got, expected);
  });
}

TEST(FaultProxy, ResetAllAndResetOne) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket a = co_await open(proxy);
    tcp::socket b = co_await open(proxy);
    tcp::socket c = co_await open(proxy);
    // The proxy accepts on its own thread: the connects can complete before it has seen them.
    CO_ASSERT_TRUE(co_await eventually([&] { return proxy.connection_ids().size() >= 3; }))
    CO_ASSERT_EQ(proxy.connection_ids(), (std::vector<std::size_t>{0, 1, 2}));
    EXPECT_TRUE(proxy.reset(1));
    EXPECT_FALSE(proxy.reset(1));
    Received got = co_await receive(b, 1, 2s);
    EXPECT_EQ(got.error, asio::error::connection_reset) << got.error.message();
    co_await send(a, ping);
    std::string reply = co_await text(a, pong.size());
    EXPECT_EQ(reply, pong);
    proxy.reset_all();
    got = co_await receive(a, 1, 2s);
    EXPECT_EQ(got.error, asio::error::connection_reset) << got.error.message();
    got = co_await receive(c, 1, 2s);
    EXPECT_EQ(got.error, asio::error::connection_reset) << got.error.message();
    EXPECT_TRUE(proxy.connection_ids().empty());
    EXPECT_EQ(proxy.resets(), 3u);
  });
}

TEST(FaultProxy, RefusesNewConnections) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    const tcp::endpoint endpoint(asio::ip::address_v4::loopback(), proxy.port());
    proxy.refuse(FaultProxy::Refuse::not_listening);
    tcp::socket refused(io);
    auto [refused_error] = co_await refused.async_connect(endpoint, use_tuple);
    EXPECT_EQ(refused_error, asio::error::connection_refused) << refused_error.message();

    proxy.refuse(FaultProxy::Refuse::reset_on_accept);
    tcp::socket reset(io);
    auto [connect_error] = co_await reset.async_connect(endpoint, use_tuple);
    if (connect_error) {
      // The reset may land before the connect's completion is looked at.
      EXPECT_EQ(connect_error, asio::error::connection_reset) << connect_error.message();
    } else {
      Received got = co_await receive(reset, 1, 2s);
      EXPECT_TRUE(got.data.empty());
      EXPECT_TRUE(got.error == asio::error::connection_reset || got.error == asio::error::eof)
          << got.error.message();
    }
    EXPECT_EQ(proxy.resets(), 1u);

    proxy.refuse(FaultProxy::Refuse::no);  // listening again, on the same port
    tcp::socket fine = co_await open(proxy);
    co_await send(fine, ping);
    std::string reply = co_await text(fine, pong.size());
    EXPECT_EQ(reply, pong);
  });
}

TEST(FaultProxy, BlackholeHoldsBytesUntilLifted) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket socket = co_await open(proxy);
    proxy.blackhole(true);
    co_await send(socket, ping);
    Received got = co_await receive(socket, pong.size(), 300ms);
    EXPECT_TRUE(got.data.empty());
    EXPECT_EQ(got.error, asio::error::operation_aborted) << "the time ran out";
    tcp::socket newcomer = co_await open(proxy);  // new connections too
    co_await send(newcomer, ping);
    std::string reply = co_await text(newcomer, pong.size(), 200ms);
    EXPECT_TRUE(reply.empty());
    EXPECT_TRUE(co_await eventually([&] {
      return proxy.bytes_held(Direction::to_server) == 2 * ping.size();
    })) << "both PINGs are held: "
        << proxy.bytes_held(Direction::to_server);
    proxy.blackhole(false);
    reply = co_await text(socket, pong.size());
    EXPECT_EQ(reply, pong);
    reply = co_await text(newcomer, pong.size());
    EXPECT_EQ(reply, pong);
    EXPECT_TRUE(co_await eventually([&] { return proxy.bytes_held(Direction::both) == 0; }));
  });
}

TEST(FaultProxy, BlackholeChosenConnections) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    tcp::socket first = co_await open(proxy);
    co_await wait_accepted(proxy, 1);
    proxy.blackhole_next(1);
    tcp::socket second = co_await open(proxy);
    co_await wait_accepted(proxy, 2);
    tcp::socket third = co_await open(proxy);
    for (tcp::socket* s : {&first, &second, &third}) co_await send(*s, ping);
    std::string reply = co_await text(first, pong.size());
    EXPECT_EQ(reply, pong);
    reply = co_await text(third, pong.size());
    EXPECT_EQ(reply, pong);
    reply = co_await text(second, pong.size(), 200ms);
    EXPECT_TRUE(reply.empty());
    EXPECT_TRUE(proxy.blackhole_connection(0, true));
    co_await send(first, ping);
    reply = co_await text(first, pong.size(), 200ms);
    EXPECT_TRUE(reply.empty());
    EXPECT_TRUE(proxy.blackhole_connection(1, false));
    reply = co_await text(second, pong.size());
    EXPECT_EQ(reply, pong);
    proxy.clear();
    reply = co_await text(first, pong.size());
    EXPECT_EQ(reply, pong);
  });
}

TEST(FaultProxy, ServerDownClosesTheClientSide) {
  test::RedisServer server;
  FaultProxy proxy(server.port());
  run_async([&](asio::io_context&) -> asio::awaitable<void> {
    server.stop();
    tcp::socket socket = co_await open(proxy);  // the proxy accepts, the server refuses
    Received got = co_await receive(socket, 1, 2s);
    EXPECT_TRUE(got.data.empty());
    EXPECT_EQ(got.error, asio::error::eof) << got.error.message();
    server.start();
    tcp::socket again = co_await open(proxy);
    co_await send(again, ping);
    std::string reply = co_await text(again, pong.size());
    EXPECT_EQ(reply, pong);
  });
}

}  // namespace
}  // namespace asyncredis
