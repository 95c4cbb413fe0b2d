// SyncRuntime: the event loop and asynchronous client a SyncClient blocks on.
#pragma once

#include <memory>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/settings.hpp"
#include "sync/loop_driver.hpp"

namespace asyncredis::detail {

class SyncRuntime {
 public:
  // Starts the background thread, then connects (blocking); on failure stops and throws.
  SyncRuntime(RedisSettings settings, std::optional<int> db);
  // Disconnects (bounded by the settings' disconnect_timeout) and joins the background thread.
  ~SyncRuntime();

  RedisClient& client() noexcept { return client_; }
  // A sink in front of `inner` (which must outlive it) whose blocking callers run the loop.
  std::shared_ptr<RequestSink> blocking_sink(RequestSink& inner);

 private:
  void stop() noexcept;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  LoopDriver driver_;
  RedisClient client_;
  std::thread background_;
};

}  // namespace asyncredis::detail
