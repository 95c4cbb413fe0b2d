// LoopDriver: whichever thread waits runs the event loop (leader/followers), so a blocking
// call at one in flight costs no thread switch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>

#include <boost/asio/io_context.hpp>

#include "asyncredis/use_sync.hpp"

namespace asyncredis::detail {

// Something that can run the event loop an operation completes on, on the waiting thread,
// instead of leaving the waiter to sleep until another thread wakes it.
class SyncDriver {
 public:
  virtual void drive(SyncWaitState& wait) = 0;

 protected:
  ~SyncDriver() = default;
};

// Set, on the initiating thread, by a request sink that has a driver for the request it was
// just given; wait_until_done() takes it (and clears it) before it waits.
SyncDriver*& sync_driver_slot() noexcept;

// One thread at a time runs the io_context (the leader): a caller blocked on a result leads
// until its own result is in, then hands the loop to the next waiting caller. Callers that
// find a leader wait to be woken with their result or with the loop. While no caller waits,
// the background thread leads (after a short grace, so that a caller calling again at once
// keeps the loop), serving timers, health checks and asynchronous users. The client's
// connections are strand-protected, so the loop may move between threads.
class LoopDriver final : public SyncDriver {
 public:
  explicit LoopDriver(boost::asio::io_context& io) : io_(io) {}

  // Until `wait` is done: leads, or waits for the result or the loop.
  void drive(SyncWaitState& wait) override;
  // The background thread's body: leads whenever no caller has for `grace`; returns after
  // stop().
  void run_background();
  void stop();

  // How long the loop stays unled before the background thread takes it.
  static constexpr std::chrono::microseconds grace{500};

 private:
  void lead(SyncWaitState& wait);
  void hand_over(std::unique_lock<std::mutex>& lock);

  boost::asio::io_context& io_;
  std::mutex mutex_;
  bool led_ = false;
  bool background_leads_ = false;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point freed_at_{};
  std::deque<SyncWaitState*> followers_;
  std::condition_variable background_wake_;
};

}  // namespace asyncredis::detail
