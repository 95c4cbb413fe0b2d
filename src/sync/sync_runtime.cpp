#include "sync/sync_runtime.hpp"

#include <utility>

#include "asyncredis/error.hpp"
#include "asyncredis/use_sync.hpp"
#include "sync/sync_sink.hpp"

namespace asyncredis::detail {

SyncRuntime::SyncRuntime(RedisSettings settings, std::optional<int> db)
    : io_(1),
      work_(io_.get_executor()),
      driver_(io_),
      client_(io_.get_executor(), std::move(settings), db),
      background_([this] { driver_.run_background(); }) {
  try {
    client_.connect(use_sync);
  } catch (...) {
    stop();
    throw;
  }
}

SyncRuntime::~SyncRuntime() {
  try {
    client_.disconnect(use_sync);
  } catch (const Error&) {
    // Already disconnected or the server went away: the connections are closed either way.
  }
  stop();
}

std::shared_ptr<RequestSink> SyncRuntime::blocking_sink(RequestSink& inner) {
  return std::make_shared<SyncSink>(inner, driver_);
}

void SyncRuntime::stop() noexcept {
  driver_.stop();
  if (background_.joinable()) background_.join();
  work_.reset();
  io_.stop();
}

}  // namespace asyncredis::detail
