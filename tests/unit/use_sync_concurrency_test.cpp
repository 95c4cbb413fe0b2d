// use_sync: the blocking completion token, without a server.
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/error.hpp"
#include "asyncredis/use_sync.hpp"

namespace asyncredis {
namespace {

namespace asio = boost::asio;

// An io_context running on a thread of its own, like a SyncClient's.
class IoThread {
 public:
  IoThread() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~IoThread() {
    work_.reset();
    thread_.join();
  }
  asio::io_context& io() { return io_; }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

// Completes on the io thread after `delay` with `value`, or with `error` when it is set.
template <class Token>
auto async_answer(asio::io_context& io, std::chrono::milliseconds delay, std::string value,
                  std::exception_ptr error, Token&& token) {
  return asio::async_initiate<Token, void(std::exception_ptr, std::string)>(
      [&io, delay](auto handler, std::string value, std::exception_ptr error) {
        auto timer = std::make_shared<asio::steady_timer>(io, delay);
        timer->async_wait([timer, handler = std::move(handler), value = std::move(value),
                           error](boost::system::error_code) mutable {
          std::move(handler)(error, std::move(value));
        });
      },
      token, std::move(value), error);
}

template <class Token>
auto async_done(asio::io_context& io, std::exception_ptr error, Token&& token) {
  return asio::async_initiate<Token, void(std::exception_ptr)>(
      [&io](auto handler, std::exception_ptr error) {
        asio::post(io,
                   [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
      },
      token, error);
}

TEST(UseSync, ReturnsTheValueOnceTheOperationCompletes) {
  IoThread io;
  const auto start = std::chrono::steady_clock::now();
  const std::string value =
      async_answer(io.io(), std::chrono::milliseconds(50), "v", nullptr, use_sync);
  EXPECT_EQ(value, "v");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
}

TEST(UseSync, ThrowsTheOperationsException) {
  IoThread io;
  auto error = std::make_exception_ptr(Error(errc::timeout, "too slow"));
  try {
    async_answer(io.io(), std::chrono::milliseconds(1), "", error, use_sync);
    FAIL() << "the error must be thrown";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::timeout);
  }
}

TEST(UseSync, VoidSignatureReturnsOrThrows) {
  IoThread io;
  async_done(io.io(), nullptr, use_sync);
  EXPECT_THROW(async_done(io.io(), std::make_exception_ptr(std::runtime_error("x")), use_sync),
               std::runtime_error);
}

TEST(UseSync, CompletionInsideTheInitiationDoesNotBlock) {
  auto value = asio::async_initiate<const use_sync_t&, void(std::exception_ptr, int)>(
      [](auto handler) { std::move(handler)(nullptr, 7); }, use_sync);
  EXPECT_EQ(value, 7);
}

TEST(UseSync, ManyThreadsBlockAtOnce) {
  IoThread io;
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string expected = std::to_string(t * 1000 + i);
        if (async_answer(io.io(), std::chrono::milliseconds(0), expected, nullptr, use_sync) ==
            expected)
          ++right;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  EXPECT_EQ(right.load(), 8 * 200);
}

}  // namespace
}  // namespace asyncredis
