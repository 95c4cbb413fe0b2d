// One connection to Redis: connects (and reconnects with backoff), runs the handshake,
// writes waiting requests in batches, reads replies in order, times requests out, answers
// cancellation and checks its own health. All its state lives on its strand.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "net/backoff.hpp"
#include "net/request_queue.hpp"
#include "net/transport.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {

using VoidHandler = asio::any_completion_handler<void(std::exception_ptr)>;

// Calls a request's handler on its associated executor (`fallback` when it has none),
// clearing its cancellation slot first. `may_run_inline` is false when the caller is still
// inside the operation's initiating function (Asio forbids completing there).
void deliver(Completion&& done, const asio::any_io_executor& fallback, bool may_run_inline);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `settings` is copied: pending handlers keep a connection alive after its client is gone,
  // so it must not refer to the client's settings. `tls`: the client's shared TLS context when
  // settings.tls is on, null otherwise. Without `reconnect` the connection stops for good at
  // its first loss (leases: a WATCH must not silently survive a reconnect).
  Connection(asio::any_io_executor executor, const RedisSettings& settings,
             std::shared_ptr<TlsContext> tls, int db, std::uint64_t seed, bool reconnect = true);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and reconnects after every loss until stop(). `first_attempt` gets the
  // outcome of the first attempt (null on success). Calling start() again after stop()
  // starts afresh.
  void start(VoidHandler first_attempt);

  // Queues a request (from any thread).
  void submit(Request&& request, ReplyHandler&& handler);

  // graceful: refuse new requests, let the queued ones finish (or time out), then close.
  // Otherwise: fail everything with errc::shutting_down and close now. `done` runs after.
  void stop(bool graceful, VoidHandler done);

  // Ends request `id` (from submit's cancellation slot) with errc::cancelled; any thread.
  void cancel(std::uint64_t id);

  // Requests submitted and not yet completed.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  bool is_up() const noexcept { return up_.load(std::memory_order_relaxed); }
  std::size_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }

 private:
  enum class State { stopped, connecting, up, down };

  asio::awaitable<void> run(std::uint64_t run_id);
  // One connect (TLS included) and handshake under connect_timeout; null on success. TLS
  // failures are errc::tls_error, the connect timing out errc::timeout, other socket errors
  // errc::not_connected.
  asio::awaitable<std::exception_ptr> connect_once();
  asio::awaitable<void> handshake();

  void do_submit(Request&& request, ReplyHandler&& handler);
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes, std::uint64_t generation);
  void start_write();
  void on_write(const boost::system::error_code& ec, std::uint64_t generation);
  // The connection broke (I/O error, protocol error, failed health check).
  void lose(std::exception_ptr why);
  void arm_deadline(Clock::time_point deadline);
  void on_deadline(std::uint64_t timer_generation);
  void start_health_check(std::uint64_t generation);
  void on_health_check(std::uint64_t generation);
  void cancel_on_strand(std::uint64_t id);
  void complete(Completion&& done, bool may_run_inline = true);
  bool runs_on_our_context(const asio::any_completion_executor& executor) const;
  void complete_all(std::vector<Completion>& done);
  void finish_stop_if_drained();
  void finish_stop();
  std::exception_ptr error(errc code, const std::string& what) const;

  const RedisSettings settings_;  // our own copy (see the constructor); transport_ refers to it
  const int db_;
  const bool reconnect_;
  asio::any_io_executor executor_;  // where handlers without an executor of their own run
  asio::any_completion_executor completion_executor_;  // executor_, as handlers report it
  // executor_'s io_context executor, if that is what it is: handlers bound to it can be
  // called directly from the strand (see complete()).
  std::optional<asio::io_context::executor_type> io_executor_;
  Strand strand_;
  Transport transport_;
  ReplyReader reader_;
  RequestQueue queue_;
  Backoff backoff_;

  asio::steady_timer deadline_timer_;
  asio::steady_timer health_timer_;
  asio::steady_timer connect_timer_;
  asio::steady_timer wait_timer_;  // backoff sleeps and "until the connection is lost"

  State state_ = State::stopped;
  bool draining_ = false;
  bool writing_ = false;
  bool in_reader_ = false;
  bool connect_timed_out_ = false;
  bool deadline_armed_ = false;
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
  std::atomic<std::size_t> reconnects_{0};
};

}  // namespace asyncredis::detail
