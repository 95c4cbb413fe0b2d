// What the fault tests (tests/integration/faults_*_test.cpp) share: reading an operation's
// outcome as an error code, waiting for a condition with a deadline (support/wait.hpp), and the
// process's memory.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/error.hpp"
#include "support/async_test.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

// The asyncredis error code behind `e`; errc{} (0) for success.
inline errc code_of(const std::exception_ptr& e) {
  return static_cast<errc>(error_code_of(e).value());
}

// Awaits `op` and returns the asyncredis error it failed with (errc{} if it succeeded).
// Pass the operation itself (`failure_of(client.get(key, use_awaitable))`), not a temporary
// built around it: GCC 12 destroys some temporaries of a co_await expression twice.
template <class Awaitable>
asio::awaitable<errc> failure_of(Awaitable op) {
  try {
    co_await std::move(op);
  } catch (const Error& e) {
    EXPECT_EQ(&e.code().category(), &category()) << e.what();
    co_return static_cast<errc>(e.code().value());
  }
  co_return errc{};
}

// The size of one command on the wire, as the client encodes it: what a test expects the proxy
// to forward (bytes_forwarded) or to hold (bytes_held) for it.
template <class... Args>
std::size_t wire_size(const Args&... args) {
  std::string bytes;
  encode_command(bytes, args...);
  return bytes.size();
}

// Outcomes of operations whose right result is known in advance. Thread-safe.
struct Tally {
  std::atomic<int> ok{0};         // succeeded with the right result
  std::atomic<int> wrong{0};      // succeeded with someone else's result: never allowed
  std::atomic<int> lost{0};       // errc::connection_lost
  std::atomic<int> timed_out{0};  // errc::timeout
  std::atomic<int> other{0};      // any other error
  std::atomic<int> done{0};       // all of the above

  void record(const std::exception_ptr& e, bool right) {
    if (!e) {
      ++(right ? ok : wrong);
    } else if (code_of(e) == errc::connection_lost) {
      ++lost;
    } else if (code_of(e) == errc::timeout) {
      ++timed_out;
    } else {
      ++other;
    }
    ++done;
  }
};

// ECHO `payload` through `commands` (a client, or a view of it), recording in `tally` whether
// the reply was the payload.
inline void echo(const Commands& commands, const std::string& payload, Tally& tally) {
  commands.command<std::string>("ECHO", payload,
                                [&tally, payload](std::exception_ptr e, std::string reply) {
                                  tally.record(e, reply == payload);
                                });
}

// Runs `io` on `count` threads until stop() or destruction, which stop it and join them: a
// test that fails half-way (an exception) cannot leave a joinable thread behind.
class IoThreads {
 public:
  IoThreads(asio::io_context& io, int count) : io_(io), guard_(io.get_executor()) {
    for (int i = 0; i < count; ++i) threads_.emplace_back([&io] { io.run(); });
  }
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;
  ~IoThreads() { stop(); }

  void stop() {
    guard_.reset();
    io_.stop();
    threads_.clear();  // jthread joins
  }

  // Lets the threads run until the io_context is out of work, then joins them: true means every
  // handler queued or pending on it (a destroyed client's last completions) has been called, so
  // counts read afterwards are final. False if work was still left after `limit` (then stops).
  bool drain(std::chrono::milliseconds limit = kWaitLimit) {
    guard_.reset();
    const bool drained = wait_until([this] { return io_.stopped(); }, limit);
    stop();
    return drained;
  }

 private:
  asio::io_context& io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::jthread> threads_;
};

// This process's resident set size in bytes (/proc/self/statm: pages).
inline std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t total_pages = 0, resident_pages = 0;
  statm >> total_pages >> resident_pages;
  return resident_pages * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace asyncredis::test
