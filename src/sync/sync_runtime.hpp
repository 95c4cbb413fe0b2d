// SyncRuntime: the io thread and asynchronous client a SyncClient blocks on.
#pragma once

#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

class SyncRuntime {
 public:
  // Starts the io thread, then connects (blocking); on failure stops the thread and throws.
  SyncRuntime(RedisSettings settings, std::optional<int> db);
  // Disconnects (bounded by the settings' disconnect_timeout) and joins the io thread.
  ~SyncRuntime();

  RedisClient& client() noexcept { return client_; }

 private:
  void stop() noexcept;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  RedisClient client_;
  std::thread thread_;
};

}  // namespace asyncredis::detail
