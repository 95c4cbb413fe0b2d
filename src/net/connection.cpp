#include "net/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "net/handshake.hpp"

namespace asyncredis::detail {

namespace {

constexpr std::size_t read_chunk = 64 * 1024;

ReaderLimits limits_of(const RedisSettings& settings) {
  ReaderLimits limits;
  limits.max_reply_size = settings.max_reply_size;
  limits.max_depth = settings.max_nesting_depth;
  return limits;
}

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
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
                       QueueLimits limits, ConnectionRole role)
    : settings_(settings),
      db_(db),
      role_(role),
      completer_(executor),
      strand_(asio::make_strand(executor)),
      transport_(strand_, settings_, std::move(tls)),
      reader_(limits_of(settings)),
      queue_(limits),
      backoff_(settings.reconnect_min_delay, settings.reconnect_max_delay, seed),
      deadline_timer_(strand_),
      health_timer_(strand_),
      connect_timer_(strand_),
      wait_timer_(strand_),
      owing_timer_(strand_),
      stop_timer_(strand_),
      read_buffer_(read_chunk) {}

std::exception_ptr Connection::error(errc code, const std::string& what) const {
  return std::make_exception_ptr(Error(code, transport_.peer() + ": " + what));
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
    std::exception_ptr failure = co_await connect_once();
    if (state_ == State::stopped || run_id != run_id_) break;
    if (first && first_attempt_) {
      asio::post(completer_.executor(),
                 [h = std::move(first_attempt_), failure]() mutable { std::move(h)(failure); });
      first_attempt_ = VoidHandler();
    }
    if (!failure) {
      if (!first) reconnects_.fetch_add(1, std::memory_order_relaxed);
      state_ = State::up;
      known_down_ = false;
      up_.store(true, std::memory_order_relaxed);
      backoff_.reset();
      start_read();
      start_write();
      start_health_check(generation_);
      while (state_ == State::up && run_id == run_id_) {  // until lose() or stop()
        wait_timer_.expires_at(asio::steady_timer::time_point::max());
        co_await wait_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    } else {
      note_down();
    }
    first = false;
    if (state_ == State::stopped || run_id != run_id_) break;
    if (role_ == ConnectionRole::leased) {
      std::vector<Completion> done;
      queue_.fail_all(error(errc::connection_lost, "connection lost (not reconnected)"), done);
      complete_all(done);
      finish_stop();
      break;
    }
    state_ = State::down;
    wait_timer_.expires_after(backoff_.next());
    co_await wait_timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Connection::note_down() {
  known_down_ = true;
  if (!settings_.fail_fast) return;
  std::vector<Completion> done;
  queue_.fail_waiting(
      error(errc::not_connected, "not connected (fail_fast): the server cannot be reached"), done);
  complete_all(done);
  finish_stop_if_drained();
}

asio::awaitable<std::exception_ptr> Connection::connect_once() {
  const std::uint64_t generation = ++generation_;
  connect_timed_out_ = false;
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([this, self = shared_from_this(), generation](auto ec) {
    if (ec || generation != generation_ || state_ != State::connecting) return;
    connect_timed_out_ = true;
    transport_.close();
  });
  std::exception_ptr failure;
  try {
    reader_.reset();
    co_await transport_.connect();
    co_await handshake();
  } catch (const Error&) {
    failure = std::current_exception();
  } catch (const boost::system::system_error& e) {
    if (connect_timed_out_) {
      failure = error(errc::timeout, "connect timed out after " +
                                         std::to_string(settings_.connect_timeout.count()) + " ms");
    } else if (auto why = transport_.tls_failure(e.code())) {
      // Also how a TLS 1.3 server's refusal of our client certificate shows: it arrives after
      // the TLS handshake, while the Redis handshake reads.
      failure = error(errc::tls_error, "TLS handshake failed: " + *why);
    } else {
      // code().message(): what() of a Boost error carries a source location too.
      failure = error(errc::not_connected, "connect failed: " + e.code().message());
    }
  } catch (const std::exception& e) {
    failure = error(errc::not_connected, std::string("connect failed: ") + e.what());
  }
  // A stop() and a new start() may have happened meanwhile: the transport is theirs now.
  if (generation == generation_) {
    connect_timer_.cancel();
    if (failure) transport_.close();
  }
  co_return failure;
}

asio::awaitable<void> Connection::handshake() {
  Handshake plan = make_handshake(settings_, db_);
  co_await transport_.async_write(asio::buffer(plan.request.payload), asio::use_awaitable);
  std::vector<Reply> replies;
  Reply reply;
  while (replies.size() < plan.steps.size()) {
    switch (reader_.next(reply)) {
      case ReplyReader::Status::reply:
        replies.push_back(std::move(reply));
        continue;
      case ReplyReader::Status::error:
        throw Error(errc::protocol_error,
                    transport_.peer() + ": handshake: " + reader_.error_message());
      case ReplyReader::Status::need_more:
        break;
    }
    std::size_t n =
        co_await transport_.async_read_some(asio::buffer(read_buffer_), asio::use_awaitable);
    reader_.feed(read_buffer_.data(), n);
  }
  check_handshake(plan, Reply::array(std::move(replies)));
  // Bytes after the last handshake reply answer nothing we sent; left in the reader they would
  // be taken for the first request's reply.
  if (const std::size_t extra = reader_.buffered(); extra > 0) {
    throw Error(errc::protocol_error, transport_.peer() + ": handshake: the server sent " +
                                          std::to_string(extra) + " bytes nobody asked for");
  }
}

void Connection::stop(bool graceful, VoidHandler done) {
  asio::dispatch(strand_, [self = shared_from_this(), graceful, h = std::move(done)]() mutable {
    self->stop_handlers_.push_back(std::move(h));
    if (self->state_ == State::stopped) {
      self->finish_stop();
      return;
    }
    if (!graceful) {
      self->finish_stop();
      return;
    }
    if (!self->draining_) {
      self->draining_ = true;
      self->stop_timer_.expires_after(self->settings_.disconnect_timeout);
      self->stop_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec && self->draining_) self->finish_stop();
      });
    }
    self->finish_stop_if_drained();
  });
}

// Replies still owed to requests that were given up are nobody's: they do not hold a stop.
void Connection::finish_stop_if_drained() {
  if (draining_ && queue_.live_count() == 0) finish_stop();
}

void Connection::finish_stop() {
  state_ = State::stopped;
  draining_ = false;
  up_.store(false, std::memory_order_relaxed);
  ++generation_;
  transport_.close();
  deadline_timer_.cancel();
  health_timer_.cancel();
  connect_timer_.cancel();
  wait_timer_.cancel();
  owing_timer_.cancel();
  stop_timer_.cancel();
  deadline_armed_ = false;
  owing_armed_ = false;
  writing_ = false;
  std::vector<Completion> done;
  queue_.fail_all(error(errc::shutting_down, "the client is shutting down"), done);
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

void Connection::submit(Request&& request, ReplyHandler&& handler) {
  load_.fetch_add(1, std::memory_order_relaxed);
  // The slot is the emitter's: installed here, on the caller's side, before the request can
  // complete (after that, the owner of the signal may reuse it).
  std::shared_ptr<CancelState> cancel;
  if (auto slot = asio::get_associated_cancellation_slot(handler); slot.is_connected()) {
    cancel = std::make_shared<CancelState>();
    slot.template emplace<CancelRequest>(weak_from_this(), cancel);
  }
  if (strand_.running_in_this_thread()) {  // a handler of ours issuing its next request
    do_submit(std::move(request), std::move(handler), cancel);
    return;
  }
  asio::dispatch(strand_, [self = shared_from_this(), request = std::move(request),
                           handler = std::move(handler), cancel = std::move(cancel)]() mutable {
    self->do_submit(std::move(request), std::move(handler), cancel);
  });
}

void Connection::do_submit(Request&& request, ReplyHandler&& handler,
                           const std::shared_ptr<CancelState>& cancel) {
  auto refuse = [&](errc code, const std::string& what) {
    complete(Completion{std::move(handler), error(code, what), Reply()}, false);
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
  const std::uint64_t id = queue_.push(std::move(request), std::move(handler), now, timeout);
  if (id == 0) {
    return refuse(errc::overloaded,
                  std::to_string(queue_.waiting_count()) +
                      " requests wait to be written already (this connection's share of "
                      "max_queued_requests " +
                      std::to_string(settings_.max_queued_requests) + " and max_queued_bytes " +
                      std::to_string(settings_.max_queued_bytes) + ")");
  }
  if (cancel) cancel->id = id;
  arm_deadline(now + timeout);
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
  if (cancel->id != 0 &&
      queue_.cancel(cancel->id, error(errc::cancelled, "operation cancelled"), done)) {
    complete(std::move(done));
    note_owing();
    finish_stop_if_drained();
  }
}

void Connection::complete(Completion&& done, bool may_run_inline) {
  load_.fetch_sub(1, std::memory_order_relaxed);
  completer_(std::move(done), may_run_inline);
}

void Connection::complete_all(std::vector<Completion>& done) {
  for (Completion& c : done) complete(std::move(c));
  done.clear();
}

// ---- writing and reading
// -------------------------------------------------------------------

void Connection::start_write() {
  // Behind a request that still owes its reply nothing is sent: it might wait behind a
  // blocking command for good. It goes out once the reply comes, or on the next connection.
  if (writing_ || state_ != State::up || !queue_.has_waiting() || queue_.owes()) return;
  queue_.take_batch(write_buffer_);
  writing_ = true;
  transport_.async_write(
      asio::buffer(write_buffer_),
      [self = shared_from_this(), generation = generation_](
          const boost::system::error_code& ec, std::size_t) { self->on_write(ec, generation); });
}

void Connection::on_write(const boost::system::error_code& ec, std::uint64_t generation) {
  if (generation != generation_) return;
  writing_ = false;
  if (ec) {
    lose(error(errc::connection_lost, "write failed: " + ec.message()));
    return;
  }
  if (!in_reader_) start_write();
}

void Connection::start_read() {
  transport_.async_read_some(asio::buffer(read_buffer_),
                             [self = shared_from_this(), generation = generation_](
                                 const boost::system::error_code& ec, std::size_t bytes) {
                               self->on_read(ec, bytes, generation);
                             });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t bytes,
                         std::uint64_t generation) {
  if (generation != generation_) return;
  if (ec) {
    lose(error(errc::connection_lost, ec == asio::error::eof
                                          ? std::string("the server closed the connection")
                                          : "read failed: " + ec.message()));
    return;
  }
  ++reads_;
  reader_.feed(read_buffer_.data(), bytes);
  in_reader_ = true;
  Reply reply;
  Completion done;
  for (;;) {
    const ReplyReader::Status status = reader_.next(reply);
    if (status == ReplyReader::Status::need_more) break;
    if (status == ReplyReader::Status::error) {
      in_reader_ = false;
      // The broken reply was the oldest written request's; the others did nothing wrong and
      // fail as on any lost connection (or go again, if they may).
      // Its handler runs once the connection is down, so that what it sends next waits for
      // the new connection instead of going out on this one.
      const std::string why = reader_.error_message();
      const bool failed = queue_.fail_oldest_written(error(errc::protocol_error, why), done);
      lose(error(errc::connection_lost, "connection dropped after a protocol error: " + why));
      if (failed) complete(std::move(done));
      return;
    }
    switch (queue_.on_reply(std::move(reply), done)) {
      case RequestQueue::ReplyResult::completed:
        complete(std::move(done));
        break;
      case RequestQueue::ReplyResult::pending:
        break;
      case RequestQueue::ReplyResult::unexpected:
        in_reader_ = false;
        lose(error(errc::connection_lost,
                   "connection dropped: the server sent a reply that no request asked for"));
        return;
    }
    // A handler may have stopped this connection.
    if (generation != generation_) {
      in_reader_ = false;
      return;
    }
  }
  in_reader_ = false;
  note_owing();
  start_write();
  start_read();
  finish_stop_if_drained();
}

void Connection::lose(std::exception_ptr why) {
  if (state_ != State::up) return;
  state_ = State::down;
  up_.store(false, std::memory_order_relaxed);
  ++generation_;
  writing_ = false;
  transport_.close();
  health_timer_.cancel();
  std::vector<Completion> done;
  queue_.on_connection_lost(why, done);
  note_owing();
  complete_all(done);
  wait_timer_.cancel();  // wakes run() to reconnect
  finish_stop_if_drained();
}

// ---- timeouts and health
// -------------------------------------------------------------------

void Connection::arm_deadline(Clock::time_point deadline) {
  if (deadline_armed_ && deadline_at_ <= deadline) return;
  deadline_armed_ = true;
  deadline_at_ = deadline;
  deadline_timer_.expires_at(deadline);
  deadline_timer_.async_wait(
      [self = shared_from_this(), g = ++deadline_generation_](const boost::system::error_code& ec) {
        if (!ec) self->on_deadline(g);
      });
}

void Connection::on_deadline(std::uint64_t timer_generation) {
  if (timer_generation != deadline_generation_) return;
  deadline_armed_ = false;
  std::vector<Completion> done;
  queue_.expire(Clock::now(), error(errc::timeout, "operation timed out"), done);
  note_owing();
  complete_all(done);
  if (auto next = queue_.earliest_deadline()) arm_deadline(*next);
  finish_stop_if_drained();
}

void Connection::note_owing() {
  const bool owes = queue_.owes();
  if (owes_.load(std::memory_order_relaxed) != owes) {
    owes_.store(owes, std::memory_order_relaxed);
  }
  if (!owes || owing_armed_ || state_ != State::up) return;
  owing_armed_ = true;
  owing_timer_.expires_at(queue_.owed_since() + settings_.abandoned_reply_timeout);
  owing_timer_.async_wait(
      [self = shared_from_this(), generation = generation_](const boost::system::error_code& ec) {
        if (!ec) self->on_owing_too_long(generation);
      });
}

void Connection::on_owing_too_long(std::uint64_t generation) {
  owing_armed_ = false;
  if (generation != generation_ || !queue_.owes()) {
    note_owing();
    return;
  }
  const auto due = queue_.owed_since() + settings_.abandoned_reply_timeout;
  if (Clock::now() < due) {  // the oldest owed reply came; a later one is not due yet
    note_owing();
    return;
  }
  lose(error(errc::connection_lost,
             "connection replaced: a request that timed out or was cancelled got no reply within " +
                 ms(settings_.abandoned_reply_timeout) +
                 " (abandoned_reply_timeout; a blocking command on a connection that is shared?)"));
}

void Connection::start_health_check(std::uint64_t generation) {
  if (settings_.health_check_interval.count() <= 0) return;
  reads_at_last_check_ = reads_;
  health_timer_.expires_after(settings_.health_check_interval);
  health_timer_.async_wait(
      [self = shared_from_this(), generation](const boost::system::error_code& ec) {
        if (!ec && generation == self->generation_) self->on_health_check(generation);
      });
}

void Connection::on_health_check(std::uint64_t generation) {
  const bool busy_lease = role_ == ConnectionRole::leased && queue_.written_count() > 0;
  if (reads_ != reads_at_last_check_ || state_ != State::up || busy_lease) {
    start_health_check(generation);
    return;
  }
  // Nothing read for a whole interval: idle, or a server that stopped
  // answering. A PING tells which; if it times out the connection is replaced.
  Request ping;
  encode_command(ping.payload, "PING");
  ping.timeout = std::min(settings_.command_timeout, settings_.health_check_interval);
  load_.fetch_add(1, std::memory_order_relaxed);
  do_submit(std::move(ping),
            asio::bind_executor(
                strand_,
                [weak = weak_from_this(), generation](std::exception_ptr failure, Reply&&) {
                  auto self = weak.lock();
                  if (!self || !failure || generation != self->generation_) return;
                  if (error_code_of(failure) == make_error_code(errc::timeout)) {
                    self->lose(self->error(errc::connection_lost,
                                           "health check: no answer to PING within " +
                                               ms(self->settings_.health_check_interval)));
                  }
                }),
            nullptr);
  start_health_check(generation);
}

}  // namespace asyncredis::detail
