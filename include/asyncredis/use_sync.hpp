// use_sync: the completion token that turns any asyncredis operation into a blocking call.
//
//   std::optional<std::string> v = client.get("k", asyncredis::use_sync);
//   cache.set("user:1", user, asyncredis::use_sync);
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/asio/async_result.hpp>

namespace asyncredis {

/// Completion token type: the operation blocks the calling thread until it completes, then
/// returns its result (or nothing for void(std::exception_ptr)) or throws its exception
/// (asyncredis::Error for the library's errors). Every operation ends within its own timeout.
/// Never use it on a thread that runs the io_context the operation completes on: that thread
/// would wait for itself. SyncClient refuses such a call on its own io thread with
/// errc::invalid_argument.
struct use_sync_t {
  constexpr use_sync_t() = default;
};

/// The use_sync_t token: pass it as an operation's last argument.
inline constexpr use_sync_t use_sync{};

namespace detail {

// Starts a blocking call: throws Error(errc::invalid_argument) on a thread that runs a
// SyncClient's event loop, where the wait could never end (src/sync/).
void begin_blocking_call();

// What the completing thread and the waiting thread share. The notification happens under the
// mutex, so the caller cannot return and destroy it before the completing thread is done.
struct SyncWaitState {
  std::mutex mutex;
  std::condition_variable ready;
  bool done = false;
  bool offered = false;  // used by src/sync: this waiter was handed the event loop to run
};

// Returns once `state.done`: a request sent through a SyncClient has this thread run the
// client's event loop meanwhile; anything else sleeps until the completing thread wakes it.
void wait_until_done(SyncWaitState& state);

// The caller's side of one blocking call: the handler stores the outcome and wakes the caller.
template <class... Ts>
class SyncWaiter {
 public:
  class Handler {
   public:
    explicit Handler(SyncWaiter* waiter) : waiter_(waiter) {}
    void operator()(std::exception_ptr error, Ts... values) {
      std::lock_guard lock(waiter_->state_.mutex);
      waiter_->error_ = std::move(error);
      if constexpr (sizeof...(Ts) == 1) waiter_->value_.emplace(std::move(values)...);
      waiter_->state_.done = true;
      waiter_->state_.ready.notify_one();
    }

   private:
    SyncWaiter* waiter_;
  };

  Handler handler() { return Handler(this); }

  auto wait() {
    wait_until_done(state_);
    if (error_) std::rethrow_exception(error_);
    if constexpr (sizeof...(Ts) == 1) return std::move(*value_);
  }

 private:
  SyncWaitState state_;
  std::exception_ptr error_;
  std::optional<std::tuple_element_t<0, std::tuple<Ts..., int>>> value_;
};

}  // namespace detail
}  // namespace asyncredis

/// @cond
template <class... Ts>
struct boost::asio::async_result<asyncredis::use_sync_t, void(std::exception_ptr, Ts...)> {
  static_assert(sizeof...(Ts) <= 1, "use_sync: signatures with one value at most");

  template <class Initiation, class... Args>
  static auto initiate(Initiation&& initiation, asyncredis::use_sync_t, Args&&... args) {
    asyncredis::detail::begin_blocking_call();
    asyncredis::detail::SyncWaiter<std::decay_t<Ts>...> waiter;
    std::forward<Initiation>(initiation)(waiter.handler(), std::forward<Args>(args)...);
    return waiter.wait();
  }
};
/// @endcond
