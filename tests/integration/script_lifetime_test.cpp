// A script's EVALSHA whose NOSCRIPT reply is acted on after its client or lease is gone: the
// EVAL fallback used to send through a dangling pointer (AddressSanitizer found it); now the
// call fails with errc::shutting_down. Run under ASan by scripts/test.sh (stage asan).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_executor.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/fault_helpers.hpp"
#include "support/redis_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::code_of;
namespace asio = boost::asio;

template <class Done>
bool run_until(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done() && std::chrono::steady_clock::now() < deadline) io.run_one_for(10ms);
  return done();
}

const std::vector<std::string> kNone;

struct ScriptCall {
  std::exception_ptr failure;
  long long result = 0;
  bool done = false;
};

// The handler runs on `elsewhere`: the reply is read, its handler queued there, and what the
// test does in between (destroying the client or the lease) happens before it runs.
template <class Target>
void call(const Target& target, const Script& script, asio::io_context& elsewhere,
          ScriptCall& outcome) {
  target.template eval<long long>(
      script, kNone, kNone,
      asio::bind_executor(elsewhere, [&outcome](std::exception_ptr e, long long result) {
        outcome.failure = e;
        outcome.result = result;
        outcome.done = true;
      }));
}

class ScriptLifetime : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.emplace(io_.get_executor(), server_.settings());
    bool connected = false;
    client_->connect([&](std::exception_ptr e) {
      ASSERT_FALSE(e) << error_message_of(e);
      connected = true;
    });
    ASSERT_TRUE(run_until(io_, [&] { return connected; }));
    server_.cli({"SCRIPT", "FLUSH"});  // so EVALSHA answers NOSCRIPT
  }

  test::RedisServer server_;
  asio::io_context io_;
  asio::io_context elsewhere_;
  std::optional<RedisClient> client_;
  Script script_{"return 7"};
};

TEST_F(ScriptLifetime, NoscriptAfterTheClientIsDestroyed) {
  ScriptCall outcome;
  call(*client_, script_, elsewhere_, outcome);
  ASSERT_TRUE(run_until(io_, [&] { return client_->stats().pending_requests == 0; }));
  client_.reset();
  io_.poll();
  elsewhere_.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(code_of(outcome.failure), errc::shutting_down) << error_message_of(outcome.failure);
}

TEST_F(ScriptLifetime, NoscriptAfterTheLeaseIsReleased) {
  std::optional<Lease> lease;
  client_->lease([&](std::exception_ptr e, Lease l) {
    ASSERT_FALSE(e) << error_message_of(e);
    lease.emplace(std::move(l));
  });
  ASSERT_TRUE(run_until(io_, [&] { return lease.has_value(); }));
  ScriptCall outcome;
  call(*lease, script_, elsewhere_, outcome);
  // Replies come in order: when the PING's arrives, the EVALSHA's handler is queued already.
  bool released = false;
  lease->ping([&](std::exception_ptr, std::string) {
    lease.reset();
    released = true;
  });
  ASSERT_TRUE(run_until(io_, [&] { return released; }));
  EXPECT_FALSE(outcome.done);
  io_.poll();
  elsewhere_.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(code_of(outcome.failure), errc::shutting_down) << error_message_of(outcome.failure);
}

// With both alive the fallback loads the script, as always.
TEST_F(ScriptLifetime, NoscriptWhileAliveLoadsTheScript) {
  ScriptCall outcome;
  call(*client_, script_, elsewhere_, outcome);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!outcome.done && std::chrono::steady_clock::now() < deadline) {
    io_.run_one_for(10ms);
    elsewhere_.restart();  // poll() stops an io_context that ran out of work
    elsewhere_.poll();
  }
  ASSERT_TRUE(outcome.done);
  EXPECT_FALSE(outcome.failure) << error_message_of(outcome.failure);
  EXPECT_EQ(outcome.result, 7);
}

}  // namespace
}  // namespace asyncredis
