#include "sync/sync_runtime.hpp"

#include <utility>

#include "asyncredis/error.hpp"
#include "asyncredis/use_sync.hpp"

namespace asyncredis::detail {

namespace {
// Set on every SyncClient io thread: a blocking call there would wait for itself.
thread_local bool sync_io_thread = false;
}  // namespace

void check_may_block() {
  if (sync_io_thread) {
    throw Error(errc::invalid_argument,
                "a blocking call on a SyncClient's own io thread would wait for itself; use the "
                "asynchronous client's operations there");
  }
}

SyncRuntime::SyncRuntime(RedisSettings settings, std::optional<int> db)
    : work_(io_.get_executor()), client_(io_.get_executor(), std::move(settings), db) {
  thread_ = std::thread([this] {
    sync_io_thread = true;
    io_.run();
  });
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

void SyncRuntime::stop() noexcept {
  work_.reset();
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace asyncredis::detail
