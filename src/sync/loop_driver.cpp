#include "sync/loop_driver.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/post.hpp>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {
thread_local bool runs_loop = false;
thread_local SyncDriver* driver_slot = nullptr;

// Marks the thread for the time it runs the loop; restores the mark of an outer scope.
class LoopThreadMark {
 public:
  LoopThreadMark() : previous_(std::exchange(runs_loop, true)) {}
  ~LoopThreadMark() { runs_loop = previous_; }
  LoopThreadMark(const LoopThreadMark&) = delete;
  LoopThreadMark& operator=(const LoopThreadMark&) = delete;

 private:
  bool previous_;
};

bool is_done(SyncWaitState& wait) {
  std::lock_guard lock(wait.mutex);
  return wait.done;
}
}  // namespace

void begin_blocking_call() {
  driver_slot = nullptr;  // left by an earlier, non-blocking call on this thread
  if (runs_loop) {
    throw Error(errc::invalid_argument,
                "a blocking call on a thread that runs a SyncClient's event loop (inside an "
                "asynchronous handler of its client) would wait for itself; use the "
                "asynchronous operations there");
  }
}

SyncDriver*& sync_driver_slot() noexcept {
  return driver_slot;
}

void wait_until_done(SyncWaitState& state) {
  if (SyncDriver* driver = std::exchange(driver_slot, nullptr)) driver->drive(state);
  std::unique_lock lock(state.mutex);
  state.ready.wait(lock, [&] { return state.done; });
}

void LoopDriver::drive(SyncWaitState& wait) {
  std::unique_lock lock(mutex_);
  if (!led_) {
    led_ = true;
    lock.unlock();
    lead(wait);
    return;
  }
  followers_.push_back(&wait);
  // The background thread sits in run_one_for(): a handler makes it return and hand over.
  if (background_leads_) boost::asio::post(io_, [] {});
  lock.unlock();
  bool offered = false;
  {
    std::unique_lock wait_lock(wait.mutex);
    wait.ready.wait(wait_lock, [&] { return wait.done || wait.offered; });
    offered = wait.offered;
  }
  if (!offered) {
    lock.lock();
    auto it = std::find(followers_.begin(), followers_.end(), &wait);
    if (it != followers_.end()) {
      followers_.erase(it);
      return;
    }
    // hand_over() took it off the list under the lock: the loop is ours (offered is set).
    lock.unlock();
  }
  lead(wait);
}

void LoopDriver::lead(SyncWaitState& wait) {
  struct Release {
    LoopDriver* self;
    ~Release() {
      std::unique_lock lock(self->mutex_);
      self->hand_over(lock);
    }
  } release{this};
  LoopThreadMark mark;
  while (!is_done(wait)) {
    if (io_.run_one() == 0) break;  // stopped: only while the client is being destroyed
  }
}

void LoopDriver::hand_over(std::unique_lock<std::mutex>& /*held*/) {
  if (followers_.empty()) {
    led_ = false;
    freed_at_ = std::chrono::steady_clock::now();
    return;
  }
  SyncWaitState* next = followers_.front();
  followers_.pop_front();
  std::lock_guard next_lock(next->mutex);
  next->offered = true;
  next->ready.notify_one();
}

void LoopDriver::run_background() {
  LoopThreadMark mark;
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (led_) {  // callers run the loop; check back now and then (no wake-up per call)
      background_wake_.wait_for(lock, std::chrono::milliseconds(5));
      continue;
    }
    if (std::chrono::steady_clock::now() - freed_at_ < grace) {
      background_wake_.wait_for(lock, grace);
      continue;
    }
    led_ = true;
    background_leads_ = true;
    while (followers_.empty() && !stopping_) {
      lock.unlock();
      io_.run_one_for(std::chrono::milliseconds(100));
      lock.lock();
    }
    background_leads_ = false;
    hand_over(lock);
  }
}

void LoopDriver::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  background_wake_.notify_all();
  boost::asio::post(io_, [] {});
}

}  // namespace asyncredis::detail
