// Connection: writing, reading and the watchdog's timer (see connection.hpp). What to write,
// what the bytes complete and what is due are decided by Pump and Watchdog; this is their I/O.
#include <boost/asio/bind_executor.hpp>

#include "asyncredis/command.hpp"
#include "net/connection.hpp"

namespace asyncredis::detail {

namespace {

std::string ms(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + " ms";
}

}  // namespace

// ---- writing and reading
// -------------------------------------------------------------------

void Connection::start_write() {
  // Behind a request that still owes its reply nothing is sent (the pump says so): it might
  // wait behind a blocking command for good. It goes out once the reply comes, or on the next
  // connection.
  // During a planned move what waits is held for the next connection.
  if (writing_ || moving_ || state_ != State::up || !pump_.take_batch(write_buffer_)) return;
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
  // Handlers may submit: their requests go out in the write below, in one batch.
  in_reader_ = true;
  const Pump::ReadResult result = pump_.on_bytes(
      read_buffer_.data(), bytes,
      [this, generation](Completion&& done) {
        if (sentinel_ && !settings_.sentinel.replicas && is_readonly(done)) readonly_seen_ = true;
        complete(std::move(done));
        return generation == generation_;  // a handler may have stopped this connection
      },
      read_pushes_);
  in_reader_ = false;
  if (result == Pump::ReadResult::stopped) return;
  if (result != Pump::ReadResult::ok) {
    // A broken reply was the oldest written request's; the others did nothing wrong and fail
    // as on any lost connection (or go again, if they may). Its handler runs once the
    // connection is down, so that what it sends next waits for the new connection.
    Completion broken;
    const bool failed =
        result == Pump::ReadResult::broken_reply &&
        pump_.queue().fail_oldest_written(error(errc::protocol_error, pump_.why()), broken);
    lose(error(errc::connection_lost, "connection dropped: " + pump_.why()));
    deliver_pushes();
    if (failed) complete(std::move(broken));
    return;
  }
  deliver_pushes();
  if (generation != generation_) return;  // a listener stopped this connection
  if (readonly_seen_) {
    readonly_seen_ = false;
    lose(error(errc::connection_lost, "READONLY: the server is no longer the master"));
    return;
  }
  note_owing();
  if (finish_move_if_quiet()) return;
  start_write();
  start_read();
  finish_stop_if_drained();
}

void Connection::deliver_pushes() {
  if (read_pushes_.empty()) return;
  if (auto listener = listener_.lock()) listener->on_pushes(read_pushes_);
  read_pushes_.clear();
}

void Connection::lose(std::exception_ptr why, bool planned) {
  if (state_ != State::up) return;
  state_ = State::down;
  up_.store(false, std::memory_order_relaxed);
  ++generation_;
  writing_ = false;
  moving_ = false;
  reconnect_at_once_ = planned;
  transport_.close();
  watchdog_.disconnected();
  if (planned) {
    log(LogLevel::info, "moving", {{"reason", error_message_of(why)}});
  } else {
    log(LogLevel::warning, "connection lost", {{"reason", error_message_of(why)}});
  }
  std::vector<Completion> done;
  pump_.queue().on_connection_lost(why, done);
  note_owing();
  if (auto listener = listener_.lock()) listener->on_lost();
  report_tracking(TrackingReport{});
  complete_all(done);
  wait_timer_.cancel();  // wakes run() to reconnect
  finish_stop_if_drained();
}

// ---- the watchdog
// ---------------------------------------------------------------------------

void Connection::note_owing() {
  const bool owes = pump_.queue().owes();
  if (owes_.load(std::memory_order_relaxed) != owes) {
    owes_.store(owes, std::memory_order_relaxed);
    if (owes) rearm_watchdog();
  }
}

void Connection::wake_at(Clock::time_point when) {
  if (wake_at_ && *wake_at_ <= when) return;
  wake_at_ = when;
  watchdog_timer_.expires_at(when);
  watchdog_timer_.async_wait(
      [self = shared_from_this(), g = ++wake_generation_](const boost::system::error_code& ec) {
        if (!ec) self->on_wake(g);
      });
}

void Connection::rearm_watchdog() {
  if (auto next = watchdog_.next(pump_.queue())) wake_at(*next);
}

void Connection::on_wake(std::uint64_t timer_generation) {
  if (timer_generation != wake_generation_) return;
  wake_at_.reset();
  const auto now = Clock::now();
  const bool blocking_allowed =
      role_ == ConnectionRole::leased && pump_.queue().written_count() > 0;
  const Watchdog::Due due = watchdog_.wake(now, pump_.queue(), reads_, blocking_allowed);
  if (due.stop) {
    finish_stop();
    return;
  }
  if (due.expire) {
    std::vector<Completion> done;
    pump_.queue().expire(now, error(errc::timeout, "operation timed out"), done);
    note_owing();
    complete_all(done);
  }
  if (due.owed_too_long) {
    lose(error(errc::connection_lost,
               "connection replaced: a request that timed out or was cancelled got no reply "
               "within " +
                   ms(settings_.abandoned_reply_timeout) +
                   " (abandoned_reply_timeout; a blocking command on a shared connection?)"));
  }
  if (due.ping && state_ == State::up) send_health_ping();
  rearm_watchdog();
  finish_stop_if_drained();
}

// Nothing read for a whole interval: idle, or a server that stopped answering. A PING tells
// which; if it times out the connection is replaced.
void Connection::send_health_ping() {
  Request ping;
  encode_command(ping.payload, "PING");
  ping.timeout = std::min(settings_.command_timeout, settings_.health_check_interval);
  load_.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t generation = generation_;
  do_submit(std::move(ping),
            asio::bind_executor(
                strand_,
                [weak = weak_from_this(), generation](std::exception_ptr failure, Reply&&) {
                  auto self = weak.lock();
                  if (!self || !failure || generation != self->generation_) return;
                  if (error_code_of(failure) == make_error_code(errc::timeout)) {
                    const std::string reason =
                        "no answer to PING within " + ms(self->settings_.health_check_interval);
                    self->log(LogLevel::warning, "health check failed", {{"reason", reason}});
                    self->lose(self->error(errc::connection_lost,
                                           "health check: no answer to PING within " +
                                               ms(self->settings_.health_check_interval)));
                  }
                }),
            nullptr, nullptr);
}

}  // namespace asyncredis::detail
