// Connection: start, reconnect and stop; requests in, handlers out (see connection.hpp).
#include "net/connection.hpp"

#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace asyncredis::detail {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

// Numbers connections in log records, across every client of the process.
std::atomic<std::uint64_t> connections_made{0};

ReaderLimits limits_of(const RedisSettings& settings) {
  ReaderLimits limits;
  limits.max_reply_size = settings.max_reply_size;
  limits.max_depth = settings.max_nesting_depth;
  return limits;
}

// Installed in a request's cancellation slot; runs on the thread that emits the signal.
class CancelRequest {
 public:
  CancelRequest(std::weak_ptr<Connection> connection, std::shared_ptr<CancelState> state)
      : connection_(std::move(connection)), state_(std::move(state)) {}

  void operator()(asio::cancellation_type) {
    state_->requested.store(true, std::memory_order_release);
    if (auto connection = connection_.lock()) connection->cancel(state_);
  }

 private:
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<CancelState> state_;
};

}  // namespace

Connection::Connection(asio::any_io_executor executor, const RedisSettings& settings,
                       std::shared_ptr<TlsContext> tls, int db, std::uint64_t seed,
                       QueueLimits limits, ConnectionRole role,
                       std::weak_ptr<PushListener> listener)
    : settings_(settings),
      db_(db),
      number_(std::to_string(connections_made.fetch_add(1, std::memory_order_relaxed) + 1)),
      role_(role),
      listener_(std::move(listener)),
      spread_(seed),
      completer_(executor),
      strand_(asio::make_strand(executor)),
      transport_(strand_, settings_, std::move(tls)),
      pump_(limits, limits_of(settings),
            role == ConnectionRole::subscriber ? ConnectionMode::subscriber
                                               : ConnectionMode::requests),
      watchdog_(settings.health_check_interval, settings.abandoned_reply_timeout),
      backoff_(settings.reconnect_min_delay, settings.reconnect_max_delay, seed),
      watchdog_timer_(strand_),
      connect_timer_(strand_),
      wait_timer_(strand_),
      read_buffer_(read_chunk),
      observed_node_(transport_.peer()) {}

std::string Connection::node_seen_from_outside() const {
  std::lock_guard lock(node_mutex_);
  return observed_node_;
}

std::exception_ptr Connection::error(errc code, const std::string& what) const {
  return std::make_exception_ptr(Error(code, transport_.peer() + ": " + what));
}

void Connection::log(LogLevel level, std::string_view message,
                     std::initializer_list<LogField> fields) {
  Logger* logger = settings_.logger.get();
  if (logger == nullptr) return;
  std::vector<LogField> all{{"node", node()}, {"connection", number_}};
  all.insert(all.end(), fields.begin(), fields.end());
  logger->log(level, message, all);
}

void Connection::log_connect_failure(const std::exception_ptr& failure, bool first,
                                     std::optional<std::chrono::milliseconds> retry_in) {
  if (!settings_.logger) return;
  const bool handshake = handshaking_ || error_code_of(failure) == make_error_code(errc::tls_error);
  const std::string reason = error_message_of(failure);
  const std::string_view message = handshake ? "handshake failed"
                                   : first   ? "connect failed"
                                             : "reconnect failed";
  const LogLevel level = handshake ? LogLevel::error : LogLevel::warning;
  if (retry_in) {
    const std::string delay = std::to_string(retry_in->count());
    log(level, message, {{"reason", reason}, {"retry_in_ms", delay}});
  } else {
    log(level, message, {{"reason", reason}});
  }
}

// ---- lifecycle
// -----------------------------------------------------------------------------

void Connection::start(VoidHandler first_attempt) {
  asio::dispatch(strand_, [self = shared_from_this(), h = std::move(first_attempt)]() mutable {
    if (self->state_ != State::stopped) {
      asio::post(self->completer_.executor(), [h = std::move(h)]() mutable {
        std::move(h)(
            std::make_exception_ptr(Error(errc::invalid_argument, "connection already started")));
      });
      return;
    }
    self->state_ = State::connecting;
    self->draining_ = false;
    self->first_attempt_ = std::move(h);
    const std::uint64_t run_id = ++self->run_id_;
    asio::co_spawn(self->strand_, self->run(run_id), [](std::exception_ptr) {});
  });
}

asio::awaitable<void> Connection::run(std::uint64_t run_id) {
  auto self = shared_from_this();
  bool first = true;
  while (state_ != State::stopped && run_id == run_id_) {
    state_ = State::connecting;
    std::exception_ptr failure = co_await connect_attempt();
    if (state_ == State::stopped || run_id != run_id_) break;
    const bool was_first = first;
    if (first && first_attempt_) {
      asio::post(completer_.executor(),
                 [h = std::move(first_attempt_), failure]() mutable { std::move(h)(failure); });
      first_attempt_ = VoidHandler();
    }
    if (!failure) {
      came_up(first);
      while (state_ == State::up && run_id == run_id_) {  // until lose() or stop()
        wait_timer_.expires_at(asio::steady_timer::time_point::max());
        co_await wait_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    } else {
      note_down();
    }
    first = false;
    if (state_ == State::stopped || run_id != run_id_) break;
    if (std::exchange(reconnect_at_once_, false)) continue;  // a planned move
    if (role_ == ConnectionRole::leased) {
      if (failure) log_connect_failure(failure, was_first, std::nullopt);
      std::vector<Completion> done;
      pump_.queue().fail_all(error(errc::connection_lost, "connection lost (not reconnected)"),
                             done);
      complete_all(done);
      finish_stop();
      break;
    }
    state_ = State::down;
    const std::chrono::milliseconds delay = backoff_.next();
    if (failure) log_connect_failure(failure, was_first, delay);
    wait_timer_.expires_after(delay);
    co_await wait_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Connection::came_up(bool first) {
  if (!first) reconnects_.fetch_add(1, std::memory_order_relaxed);
  state_ = State::up;
  known_down_ = false;
  up_.store(true, std::memory_order_relaxed);
  backoff_.reset();
  watchdog_.connected(Clock::now(), reads_);
  rearm_watchdog();
  log(LogLevel::info, "connected", {{"reconnect", first ? "false" : "true"}});
  start_read();
  // A subscriber subscribes again before what waits is written: all goes in one batch.
  if (auto listener = listener_.lock()) listener->on_connected(first);
  report_tracking(tracking_state_);
  start_write();
}

void Connection::note_down() {
  known_down_ = true;
  if (!settings_.fail_fast) return;
  std::vector<Completion> done;
  pump_.queue().fail_waiting(
      error(errc::not_connected, "not connected (fail_fast): the server cannot be reached"), done);
  complete_all(done);
  finish_stop_if_drained();
}

void Connection::stop(bool graceful, VoidHandler done) {
  asio::dispatch(strand_, [self = shared_from_this(), graceful, h = std::move(done)]() mutable {
    self->stop_handlers_.push_back(std::move(h));
    if (self->state_ == State::stopped || !graceful) {
      self->finish_stop();
      return;
    }
    if (!self->draining_) {
      self->draining_ = true;
      self->watchdog_.draining_until(Clock::now() + self->settings_.disconnect_timeout);
      self->rearm_watchdog();
    }
    self->finish_stop_if_drained();
  });
}

// Replies still owed to requests that were given up are nobody's: they do not hold a stop.
void Connection::finish_stop_if_drained() {
  if (draining_ && pump_.queue().live_count() == 0) finish_stop();
}

void Connection::finish_stop() {
  if (state_ == State::up) report_tracking(TrackingReport{});
  state_ = State::stopped;
  draining_ = false;
  moving_ = false;
  move_target_.reset();
  up_.store(false, std::memory_order_relaxed);
  ++generation_;
  transport_.close();
  watchdog_timer_.cancel();
  connect_timer_.cancel();
  wait_timer_.cancel();
  watchdog_.stopped();
  wake_at_.reset();
  writing_ = false;
  std::vector<Completion> done;
  pump_.queue().fail_all(error(errc::shutting_down, "the client is shutting down"), done);
  note_owing();
  if (first_attempt_) {
    asio::post(completer_.executor(),
               [h = std::move(first_attempt_),
                e = error(errc::shutting_down, "stopped while connecting")]() mutable {
                 std::move(h)(e);
               });
    first_attempt_ = VoidHandler();
  }
  complete_all(done);
  for (auto& h : stop_handlers_) {
    asio::post(completer_.executor(), [h = std::move(h)]() mutable { std::move(h)(nullptr); });
  }
  stop_handlers_.clear();
}

// ---- requests
// ------------------------------------------------------------------------------

void Connection::submit(Request&& request, ReplyHandler&& handler, Observe observe) {
  load_.fetch_add(1, std::memory_order_relaxed);
  // The one test an unobserved request pays: no clock read, no name parsed.
  std::unique_ptr<Observation> observation;
  if (CommandObserver* observer = settings_.observer.get();
      observer != nullptr && observe == Observe::yes) {
    // Off the strand: node() may be changing (a move over Sentinel).
    const std::string node = node_seen_from_outside();
    observation = detail::observe(*observer, request, node);
  }
  // The slot is the emitter's: installed here, on the caller's side, before the request can
  // complete (after that, the owner of the signal may reuse it).
  std::shared_ptr<CancelState> cancel;
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) {
    cancel = std::make_shared<CancelState>();
    slot.template emplace<CancelRequest>(weak_from_this(), cancel);
  }
  if (strand_.running_in_this_thread()) {  // a handler of ours issuing its next request
    do_submit(std::move(request), std::move(handler), cancel, std::move(observation));
    return;
  }
  asio::dispatch(strand_, [self = shared_from_this(), request = std::move(request),
                           handler = std::move(handler), cancel = std::move(cancel),
                           observation = std::move(observation)]() mutable {
    self->do_submit(std::move(request), std::move(handler), cancel, std::move(observation));
  });
}

void Connection::do_submit(Request&& request, ReplyHandler&& handler,
                           const std::shared_ptr<CancelState>& cancel,
                           std::unique_ptr<Observation>&& observation) {
  auto refuse = [&](errc code, const std::string& what) {
    complete(Completion{std::move(handler), error(code, what), Reply(), std::move(observation)},
             false);
  };
  if (state_ == State::stopped || draining_) {
    return refuse(errc::shutting_down, "the client is shutting down");
  }
  if (cancel && cancel->requested.load(std::memory_order_acquire)) {
    return refuse(errc::cancelled, "operation cancelled");
  }
  if (settings_.fail_fast && known_down_ && state_ != State::up) {
    return refuse(errc::not_connected, "not connected (fail_fast): the server cannot be reached");
  }
  const auto timeout = request.timeout.count() > 0 ? request.timeout : settings_.command_timeout;
  const auto now = Clock::now();
  RequestQueue& queue = pump_.queue();
  const std::uint64_t id =
      queue.push(std::move(request), std::move(handler), now, timeout, std::move(observation));
  if (id == 0) {
    return refuse(errc::overloaded,
                  std::to_string(queue.waiting_count()) +
                      " requests wait to be written already (this connection's share of "
                      "max_queued_requests " +
                      std::to_string(settings_.max_queued_requests) + " and max_queued_bytes " +
                      std::to_string(settings_.max_queued_bytes) + ")");
  }
  if (cancel) cancel->id = id;
  wake_at(now + timeout);
  if (!in_reader_) start_write();
}

void Connection::cancel(std::shared_ptr<CancelState> cancel) {
  asio::dispatch(strand_, [self = shared_from_this(), cancel = std::move(cancel)] {
    self->cancel_on_strand(cancel);
  });
}

void Connection::cancel_on_strand(const std::shared_ptr<CancelState>& cancel) {
  // id 0: not queued yet (do_submit sees `requested`) or refused.
  Completion done;
  if (cancel->id == 0 ||
      !pump_.queue().cancel(cancel->id, error(errc::cancelled, "operation cancelled"), done)) {
    return;
  }
  complete(std::move(done));
  note_owing();
  finish_stop_if_drained();
}

void Connection::complete(Completion&& done, bool may_run_inline) {
  load_.fetch_sub(1, std::memory_order_relaxed);
  if (done.observation) {
    report(*done.observation, node(), done.error, done.reply);
    done.observation.reset();
  }
  completer_(std::move(done), may_run_inline);
}

void Connection::complete_all(std::vector<Completion>& done) {
  for (Completion& c : done) complete(std::move(c));
  done.clear();
}

}  // namespace asyncredis::detail
