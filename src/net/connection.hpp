// One connection to Redis: connects (and reconnects with backoff), runs the handshake,
// writes waiting requests in batches, reads replies in order, times requests out, answers
// cancellation and checks its own health. All its state lives on its strand.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "net/backoff.hpp"
#include "net/completer.hpp"
#include "net/request_queue.hpp"
#include "net/transport.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {

using VoidHandler = asio::any_completion_handler<void(std::exception_ptr)>;

// What a request's cancellation slot shares with its connection: the slot's handler runs on
// the thread that emits the signal and only sets `requested` and asks the strand to act; the
// strand alone reads `id`. So the slot is installed and read on the signal's side and the
// queue on the strand's, and a cancellation that overtakes its request on the way to the
// strand still ends it (the strand checks `requested` before queueing).
struct CancelState {
  std::atomic<bool> requested{false};
  std::uint64_t id = 0;  // the queue's id, once queued (strand only)
};

enum class ConnectionRole {
  // One of the pool's: reconnects after every loss; checked whenever nothing was read for a
  // health_check_interval (blocking commands are refused on it, so silence means a stall).
  pooled,
  // A lease's: stops for good at its first loss (a WATCH must not silently survive a
  // reconnect); checked only when idle (a blocking command may rightly keep it silent, and
  // its own timeout bounds it).
  leased,
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `settings` is copied: pending handlers keep a connection alive after its client is gone,
  // so it must not refer to the client's settings. `tls`: the client's shared TLS context when
  // settings.tls is on, null otherwise. `limits`: this connection's share of the pool's queue
  // bounds.
  Connection(asio::any_io_executor executor, const RedisSettings& settings,
             std::shared_ptr<TlsContext> tls, int db, std::uint64_t seed, QueueLimits limits,
             ConnectionRole role);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and reconnects after every loss until stop(). `first_attempt` gets the
  // outcome of the first attempt (null on success). Calling start() again after stop()
  // starts afresh.
  void start(VoidHandler first_attempt);

  // Queues a request (from any thread; the caller's, which owns the handler's cancellation
  // slot). Fails it with errc::overloaded when this connection's share of max_queued_* is
  // taken, errc::not_connected when fail_fast is on and the connection is known to be down.
  void submit(Request&& request, ReplyHandler&& handler);

  // graceful: refuse new requests, let the live ones finish (or time out) for at most
  // settings.disconnect_timeout, then close. Otherwise: fail everything with
  // errc::shutting_down and close now. `done` runs after.
  void stop(bool graceful, VoidHandler done);

  // Requests submitted and not yet completed.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  bool is_up() const noexcept { return up_.load(std::memory_order_relaxed); }
  // Written requests that were given up (timed out, cancelled) still owe their replies: the
  // connection sends nothing new until they come, and should not be handed new work.
  bool owes() const noexcept { return owes_.load(std::memory_order_relaxed); }
  std::size_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }

  // Ends the request behind `cancel` with errc::cancelled; any thread.
  void cancel(std::shared_ptr<CancelState> cancel);

 private:
  enum class State { stopped, connecting, up, down };

  asio::awaitable<void> run(std::uint64_t run_id);
  // One connect (TLS included) and handshake under connect_timeout; null on success. TLS
  // failures are errc::tls_error, the connect timing out errc::timeout, other socket errors
  // errc::not_connected.
  asio::awaitable<std::exception_ptr> connect_once();
  asio::awaitable<void> handshake();
  // A connect attempt failed: with fail_fast, what waits fails now.
  void note_down();

  void do_submit(Request&& request, ReplyHandler&& handler,
                 const std::shared_ptr<CancelState>& cancel);
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes, std::uint64_t generation);
  void start_write();
  void on_write(const boost::system::error_code& ec, std::uint64_t generation);
  // The connection broke (I/O error, protocol error, failed health check, replies owed too
  // long): written requests fail with `why`, waiting ones go out after the reconnect.
  void lose(std::exception_ptr why);
  void arm_deadline(Clock::time_point deadline);
  void on_deadline(std::uint64_t timer_generation);
  // Mirrors queue_.owes() for the pool and bounds how long it may last.
  void note_owing();
  void on_owing_too_long(std::uint64_t generation);
  void start_health_check(std::uint64_t generation);
  void on_health_check(std::uint64_t generation);
  void cancel_on_strand(const std::shared_ptr<CancelState>& cancel);
  void complete(Completion&& done, bool may_run_inline = true);
  void complete_all(std::vector<Completion>& done);
  void finish_stop_if_drained();
  void finish_stop();
  std::exception_ptr error(errc code, const std::string& what) const;

  const RedisSettings settings_;  // our own copy (see the constructor); transport_ refers to it
  const int db_;
  const ConnectionRole role_;
  Completer completer_;
  Strand strand_;
  Transport transport_;
  ReplyReader reader_;
  RequestQueue queue_;
  Backoff backoff_;

  asio::steady_timer deadline_timer_;
  asio::steady_timer health_timer_;
  asio::steady_timer connect_timer_;
  asio::steady_timer wait_timer_;  // backoff sleeps and "until the connection is lost"
  asio::steady_timer owing_timer_;
  asio::steady_timer stop_timer_;  // the bound on a graceful stop

  State state_ = State::stopped;
  bool draining_ = false;
  bool writing_ = false;
  bool in_reader_ = false;
  bool connect_timed_out_ = false;
  bool known_down_ = false;  // the last connect attempt failed
  bool deadline_armed_ = false;
  bool owing_armed_ = false;
  Clock::time_point deadline_at_{};
  std::uint64_t deadline_generation_ = 0;
  std::uint64_t generation_ = 0;  // bumps on every (re)connect: stale I/O handlers see it
  std::uint64_t run_id_ = 0;
  std::uint64_t reads_ = 0;
  std::uint64_t reads_at_last_check_ = 0;
  std::string write_buffer_;
  std::vector<char> read_buffer_;
  MovableHandler<VoidHandler> first_attempt_;
  std::vector<VoidHandler> stop_handlers_;

  std::atomic<std::size_t> load_{0};
  std::atomic<bool> up_{false};
  std::atomic<bool> owes_{false};
  std::atomic<std::size_t> reconnects_{0};
};

}  // namespace asyncredis::detail
