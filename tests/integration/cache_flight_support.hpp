// What the single-flight tests share: computations held open by a Gate until the test opens
// it (when every caller waits, or every computation runs), never for a fixed time; how a
// failure is classified; a client on a four-thread io_context.
#pragma once

#include <atomic>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/shared_target.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

namespace asio = boost::asio;

// Computations that run until the test opens the gate (or are cancelled: the wait is a timer).
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> started{0};

  template <class T>
  auto computation(T value) {
    return [this, value]() -> asio::awaitable<T> {
      ++started;
      if (!co_await test::eventually([this] { return open.load(); })) {
        throw std::runtime_error("the test never opened the gate");
      }
      co_return value;
    };
  }
};

// The code of a failure: asyncredis's own, or a Boost.Asio error (a cancelled timer).
inline std::error_code code_of(const std::exception_ptr& e) {
  try {
    if (e) std::rethrow_exception(e);
  } catch (const boost::system::system_error& error) {
    return error.code();
  } catch (...) {
  }
  return error_code_of(e);
}

inline bool is_cancelled(const std::exception_ptr& e) {
  const std::error_code code = code_of(e);
  return code == make_error_code(errc::cancelled) || code == std::errc::operation_canceled;
}

// Runs `body` on this thread with a connected client whose io_context four other threads run.
inline void on_four_threads(const SharedTarget& server,
                            const std::function<void(asio::io_context&, RedisClient&)>& body) {
  asio::io_context io(4);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 4; ++i) runners.emplace_back([&] { io.run(); });
  {
    RedisClient client(io.get_executor(), server.settings());
    client.connect(asio::use_future).get();
    body(io, client);
    client.disconnect(asio::use_future).get();
  }
  work.reset();
  for (auto& r : runners) r.join();
}

}  // namespace asyncredis::test
