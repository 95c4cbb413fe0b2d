// Cancellation from other threads than the connection's: the signal's slot is only touched on
// the signal's side, and a cancellation that overtakes its request still ends it. Built and
// run under ThreadSanitizer too (scripts/test.sh, stage tsan).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
using test::use_awaitable;
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

// Runs `io` until `done` or 30 s.
template <class Done>
bool run_until(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  return done();
}

void connect(asio::io_context& io, RedisClient& client) {
  bool connected = false;
  client.connect([&](std::exception_ptr e) {
    ASSERT_FALSE(e) << error_message_of(e);
    connected = true;
  });
  ASSERT_TRUE(run_until(io, [&] { return connected; }));
}

// Issue 9: the slot was installed on the connection's strand, after the request got there; a
// signal emitted before that found no handler and the request ran to completion.
TEST(CancellationConcurrency, ACancellationThatOvertakesItsRequestStillEndsIt) {
  test::RedisServer server;
  asio::io_context io;
  RedisClient client(io.get_executor(), server.settings());
  connect(io, client);
  for (int i = 0; i < 20; ++i) {
    asio::cancellation_signal signal;
    std::exception_ptr failure;
    bool done = false;
    client.get("k", asio::bind_cancellation_slot(
                        signal.slot(), [&](std::exception_ptr e, std::optional<std::string>) {
                          failure = e;
                          done = true;
                        }));
    signal.emit(asio::cancellation_type::terminal);  // io is not running: nothing was sent yet
    ASSERT_TRUE(run_until(io, [&] { return done; }));
    EXPECT_EQ(code_of(failure), errc::cancelled) << i;
  }
  EXPECT_EQ(client.stats().pending_requests, 0u);
}

// `get() || timer` in a loop on an io_context run by four threads: the timer's completion
// emits the cancellation on one thread while the reply completes the request on another. Each
// coroutine runs on a strand of its own, as Asio's awaitable operators need on a threaded
// io_context (their parallel group and the operations it cancels complete on the coroutine's
// executor); the connections' strands are others, so every cancellation crosses threads.
TEST(CancellationConcurrency, GetOrTimerOnManyThreads) {
  test::RedisServer server;
  asio::io_context io;
  RedisSettings settings = server.settings();
  settings.max_connections = 2;
  RedisClient client(io.get_executor(), settings);
  connect(io, client);
  std::atomic<int> replies{0}, timers{0}, finished{0};
  constexpr int kLoops = 6, kRounds = 300;
  for (int loop = 0; loop < kLoops; ++loop) {
    asio::co_spawn(
        asio::make_strand(io),
        [&, loop]() -> asio::awaitable<void> {
          std::minstd_rand random(static_cast<unsigned>(loop));
          asio::steady_timer timer(co_await asio::this_coro::executor);
          for (int round = 0; round < kRounds; ++round) {
            timer.expires_after(std::chrono::microseconds(random() % 400));
            auto winner =
                co_await (client.get("k", use_awaitable) || timer.async_wait(use_awaitable));
            ++(winner.index() == 0 ? replies : timers);
          }
        },
        [&](std::exception_ptr e) {
          EXPECT_FALSE(e) << error_message_of(e);
          ++finished;
        });
  }
  test::IoThreads threads(io, 4);
  // The main thread only watches.
  test::wait_until([&] { return finished == kLoops; }, 60s);
  ASSERT_EQ(finished.load(), kLoops);
  EXPECT_EQ(replies + timers, kLoops * kRounds);
  std::printf("get() || timer: %d replies first, %d timers first\n", replies.load(), timers.load());
  // Whatever was cancelled was answered or given up cleanly: the pool still works.
  std::atomic<bool> pinged{false};
  client.ping([&](std::exception_ptr e, std::string pong) {
    EXPECT_FALSE(e) << error_message_of(e);
    EXPECT_EQ(pong, "PONG");
    pinged = true;
  });
  EXPECT_TRUE(test::wait_until([&] { return pinged.load(); }));
  threads.stop();
}

}  // namespace
}  // namespace asyncredis
