// One connection to Redis, and the shell around its stages. All its state lives on its strand.
//
//   connect    connection_connect.cpp   connect (TLS included) and handshake, under a timeout;
//                                       backoff between attempts (net/backoff.hpp)
//   write/read connection_io.cpp        net/pump.hpp decides what to write and what the bytes
//                                       read complete; pushed messages go to a PushListener
//   deadlines  connection_io.cpp        net/watchdog.hpp decides what is due: timeouts, health
//                                       checks, owed replies, the end of a graceful stop
//   lifecycle  connection.cpp           start, reconnect, stop; requests in and handlers out
//
// The stages that decide (Pump, Watchdog, the handshake's plan and check, Backoff) have no
// sockets and no timers, and are unit-tested on their own; this class owns the I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/observer.hpp"
#include "asyncredis/settings.hpp"
#include "net/backoff.hpp"
#include "net/completer.hpp"
#include "net/node_address.hpp"
#include "net/pump.hpp"
#include "net/tracking_hook.hpp"
#include "net/transport.hpp"
#include "net/watchdog.hpp"

namespace asyncredis::detail {

using VoidHandler = asio::any_completion_handler<void(std::exception_ptr)>;
class SentinelResolver;

enum class ConnectionRole {
  // One of the pool's: reconnects after every loss; checked whenever nothing was read for a
  // health_check_interval (blocking commands are refused on it, so silence means a stall).
  pooled,
  // A lease's: stops for good at its first loss (a WATCH must not silently survive a
  // reconnect); checked only when idle (a blocking command may rightly keep it silent, and
  // its own timeout bounds it).
  leased,
  // A Subscriber's: reconnects like a pooled one, and tells the server's pushed messages from
  // replies (ConnectionMode::subscriber), handing them to its PushListener.
  subscriber,
};

// Whether settings.observer sees a request: the callers' commands, not the library's own.
enum class Observe : bool { no, yes };

// What a subscriber's connection tells its owner; called on the connection's strand.
class PushListener {
 public:
  virtual ~PushListener() = default;
  // The connection is up, before anything waiting is written: the place to subscribe again
  // to what the last connection had. `first`: its first connection.
  virtual void on_connected(bool first) = 0;
  // The connection was lost; it reconnects unless stopped.
  virtual void on_lost() = 0;
  // Messages the server pushed, in the order they came; the listener may take them.
  virtual void on_pushes(std::vector<Reply>& messages) = 0;
};

// What a request's cancellation slot shares with its connection: the slot's handler runs on
// the thread that emits the signal and only sets `requested` and asks the strand to act; the
// strand alone reads `id`. So the slot is installed and read on the signal's side and the
// queue on the strand's, and a cancellation that overtakes its request on the way to the
// strand still ends it (the strand checks `requested` before queueing).
struct CancelState {
  std::atomic<bool> requested{false};
  std::uint64_t id = 0;  // the queue's id, once queued (strand only)
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `settings` is copied: pending handlers keep a connection alive after its client is gone,
  // so it must not refer to the client's settings. `tls`: the client's shared TLS context when
  // settings.tls is on, null otherwise. `limits`: this connection's share of the pool's queue
  // bounds. `listener`: a subscriber connection's (held weakly), null otherwise.
  Connection(asio::any_io_executor executor, const RedisSettings& settings,
             std::shared_ptr<TlsContext> tls, int db, std::uint64_t seed, QueueLimits limits,
             ConnectionRole role, std::weak_ptr<PushListener> listener = {});
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and reconnects after every loss until stop(). `first_attempt` gets the
  // outcome of the first attempt (null on success). Calling start() again after stop()
  // starts afresh.
  void start(VoidHandler first_attempt);

  // Queues a request (from any thread; the caller's, which owns the handler's cancellation
  // slot). Fails it with errc::overloaded when this connection's share of max_queued_* is
  // taken, errc::not_connected when fail_fast is on and the connection is known to be down.
  // Observe::yes: settings.observer, if any, sees it start (here) and end.
  void submit(Request&& request, ReplyHandler&& handler, Observe observe = Observe::no);

  // graceful: refuse new requests, let the live ones finish (or time out) for at most
  // settings.disconnect_timeout, then close. Otherwise: fail everything with
  // errc::shutting_down and close now. `done` runs after.
  void stop(bool graceful, VoidHandler done);

  // A pooled connection shares its client's slot (before start()): while a hook sits in it,
  // the handshake includes the hook's CLIENT TRACKING and the hook hears of every up and down.
  void set_tracking(std::shared_ptr<TrackingSlot> slot) { tracking_ = std::move(slot); }
  // Tracks the live connection with `plan` (CLIENT TRACKING off, then the plan's command),
  // queued behind what waits, so requests in flight go on; the hook hears how it went. A
  // connection that is not up does nothing: its next handshake asks the hook. An empty
  // command sends only CLIENT TRACKING off. Any thread.
  void retrack(TrackingPlan plan);

  // Ends the request behind `cancel` with errc::cancelled; any thread.
  void cancel(std::shared_ptr<CancelState> cancel);

  // Over Sentinel: asks `resolver` where to connect before each connect attempt, and drops
  // the connection at a -READONLY reply (the master was demoted). Call before start().
  void follow(std::shared_ptr<SentinelResolver> resolver) { sentinel_ = std::move(resolver); }
  // Sentinel says the node moved: if this connection is up it is dropped as lost (requests
  // on the wire fail with errc::connection_lost, waiting ones go out after the reconnect,
  // which asks the sentinels again) -- when it is connected to `node` (`only_there`), or when
  // it is not (`!only_there`: the new master; "" for none). Any thread.
  void relocate(const std::string& why, const std::string& node, bool only_there);
  // Over Sentinel, a planned move (a replica back in service takes its share of a replica
  // client's connections): new writes are held, the replies on the wire come in, then the
  // connection reconnects to `target` at once. Nothing fails; what waits goes out there. The
  // handshake still checks the role: a target that is gone or no longer a replica is left for
  // the sentinels' answer. node_seen_from_outside() names `target` from now on. Any thread.
  void move_to(const std::string& why, NodeAddress target);

  // Requests submitted and not yet completed.
  std::size_t load() const noexcept { return load_.load(std::memory_order_relaxed); }
  bool is_up() const noexcept { return up_.load(std::memory_order_relaxed); }
  // Written requests that were given up (timed out, cancelled) still owe their replies: the
  // connection sends nothing new until they come, and should not be handed new work.
  bool owes() const noexcept { return owes_.load(std::memory_order_relaxed); }
  std::size_t reconnects() const noexcept { return reconnects_.load(std::memory_order_relaxed); }
  // settings.observer (null: none); valid as long as this connection.
  CommandObserver* observer() const noexcept { return settings_.observer.get(); }
  // Where it connects: "host:port" or "unix:/path", as events and errors name it.
  const std::string& node() const noexcept { return transport_.peer(); }
  // node() as it is now, from any thread (a connection over Sentinel changes it).
  std::string node_seen_from_outside() const;

 private:
  enum class State { stopped, connecting, up, down };

  // ---- lifecycle (connection.cpp)
  asio::awaitable<void> run(std::uint64_t run_id);
  void came_up(bool first);
  // A connect attempt failed: with fail_fast, what waits fails now.
  void note_down();
  void do_submit(Request&& request, ReplyHandler&& handler,
                 const std::shared_ptr<CancelState>& cancel,
                 std::unique_ptr<Observation>&& observation);
  void cancel_on_strand(const std::shared_ptr<CancelState>& cancel);
  void complete(Completion&& done, bool may_run_inline = true);
  void complete_all(std::vector<Completion>& done);
  void finish_stop_if_drained();
  void finish_stop();
  std::exception_ptr error(errc code, const std::string& what) const;
  // To settings.logger, if any, with the fields "node" and "connection" first.
  void log(LogLevel level, std::string_view message, std::initializer_list<LogField> fields);
  // A connect attempt failed; `retry_in`: when the next one comes (none: no next one).
  void log_connect_failure(const std::exception_ptr& failure, bool first,
                           std::optional<std::chrono::milliseconds> retry_in);

  // ---- connect (connection_connect.cpp)
  // One connect (TLS included) and handshake under connect_timeout; null on success. TLS
  // failures are errc::tls_error, the connect timing out errc::timeout, other socket errors
  // errc::not_connected.
  asio::awaitable<std::exception_ptr> connect_once();
  asio::awaitable<void> handshake();
  // connect_once(); over Sentinel, when the node is not in the role the sentinels gave it (a
  // demoted master they have not converted yet, listed as a replica), the next one they name
  // is tried at once (connection_sentinel.cpp).
  asio::awaitable<std::exception_ptr> connect_attempt();
  // Over Sentinel, points the transport at the address the sentinels give; null on success.
  asio::awaitable<std::exception_ptr> resolve_target();
  // Whether `done` carries a -READONLY reply (from a master demoted under us).
  bool is_readonly(const Completion& done) const;
  // A planned move with nothing left on the wire: reconnects (to move_target_). Returns
  // whether it did.
  bool finish_move_if_quiet();

  // ---- client-side caching (connection_tracking.cpp)
  // The hook's plan, its command appended to the handshake's payload; nothing without one.
  std::optional<TrackingPlan> add_tracking(std::string& handshake_payload);
  // Reads the reply to the handshake's CLIENT TRACKING into tracking_state_; throws
  // Error(errc::protocol_error) for a reply other than +OK or an error.
  void check_tracking(const TrackingPlan& plan, const Reply& reply);
  void report_tracking(TrackingReport report);

  // ---- write, read, deadlines (connection_io.cpp)
  void start_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes, std::uint64_t generation);
  void start_write();
  void on_write(const boost::system::error_code& ec, std::uint64_t generation);
  void deliver_pushes();
  // The connection broke (I/O error, protocol error, failed health check, replies owed too
  // long): written requests fail with `why`, waiting ones go out after the reconnect.
  // `planned`: a move (move_to()), logged as such and reconnected without a backoff.
  void lose(std::exception_ptr why, bool planned = false);
  // Mirrors the queue's owed replies for the pool and wakes the watchdog in time for them.
  void note_owing();
  // (Re)arms the watchdog's timer if `when` is earlier than what it waits for.
  void wake_at(Clock::time_point when);
  void rearm_watchdog();
  void on_wake(std::uint64_t timer_generation);
  void send_health_ping();

  const RedisSettings settings_;  // our own copy (see the constructor); transport_ refers to it
  const int db_;
  const std::string number_;  // tells the process's connections apart in log records
  const ConnectionRole role_;
  const std::weak_ptr<PushListener> listener_;
  std::shared_ptr<TrackingSlot> tracking_;      // pooled connections only
  TrackingReport tracking_state_;               // what the last handshake made of tracking
  std::shared_ptr<SentinelResolver> sentinel_;  // null: connect to settings_.host
  std::uint64_t spread_;                        // which replica this connection prefers
  std::optional<NodeAddress> move_target_;      // where the next connect goes (move_to())
  std::string move_reason_;                     // why, for the log
  Completer completer_;
  Strand strand_;
  Transport transport_;
  Pump pump_;
  Watchdog watchdog_;
  Backoff backoff_;

  asio::steady_timer watchdog_timer_;
  asio::steady_timer connect_timer_;
  asio::steady_timer wait_timer_;  // backoff sleeps and "until the connection is lost"

  State state_ = State::stopped;
  bool draining_ = false;
  bool writing_ = false;
  bool in_reader_ = false;
  bool connect_timed_out_ = false;
  bool handshaking_ = false;                  // the connect attempt got past the socket
  bool known_down_ = false;                   // the last connect attempt failed
  bool readonly_seen_ = false;                // a -READONLY reply came in this read
  bool moving_ = false;                       // move_to(): writes held until the wire is quiet
  bool reconnect_at_once_ = false;            // the last loss was a planned move
  std::optional<Clock::time_point> wake_at_;  // what watchdog_timer_ waits for
  std::uint64_t wake_generation_ = 0;
  std::uint64_t generation_ = 0;  // bumps on every (re)connect: stale I/O handlers see it
  std::uint64_t run_id_ = 0;
  std::uint64_t reads_ = 0;
  std::string write_buffer_;
  std::vector<char> read_buffer_;
  mutable std::mutex node_mutex_;
  std::string observed_node_;       // node(), for node_seen_from_outside(); under node_mutex_
  std::vector<Reply> read_pushes_;  // reused by every read
  MovableHandler<VoidHandler> first_attempt_;
  std::vector<VoidHandler> stop_handlers_;

  std::atomic<std::size_t> load_{0};
  std::atomic<bool> up_{false};
  std::atomic<bool> owes_{false};
  std::atomic<std::size_t> reconnects_{0};
};

}  // namespace asyncredis::detail
