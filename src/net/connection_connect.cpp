// Connection: one connect attempt, TLS included, and the handshake (see connection.hpp).
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "net/connection.hpp"
#include "net/handshake.hpp"

namespace asyncredis::detail {

asio::awaitable<std::exception_ptr> Connection::connect_once() {
  if (sentinel_) {
    if (std::exception_ptr failure = co_await resolve_target()) co_return failure;
    if (state_ != State::connecting) {
      co_return error(errc::shutting_down, "stopped while asking the sentinels");
    }
  }
  const std::uint64_t generation = ++generation_;
  connect_timed_out_ = false;
  handshaking_ = false;
  connect_timer_.expires_after(settings_.connect_timeout);
  connect_timer_.async_wait([this, self = shared_from_this(), generation](auto ec) {
    if (ec || generation != generation_ || state_ != State::connecting) return;
    connect_timed_out_ = true;
    transport_.close();
  });
  std::exception_ptr failure;
  try {
    pump_.reset_reader();
    co_await transport_.connect();
    handshaking_ = true;
    co_await handshake();
    // The timer may have fired (and closed the socket) while the last reply was on its way
    // to us: the attempt timed out, however complete it looks.
    if (connect_timed_out_) throw boost::system::system_error(asio::error::timed_out);
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
  const std::optional<TrackingPlan> tracking = add_tracking(plan.request.payload);
  const std::size_t expected = plan.steps.size() + (tracking ? 1 : 0);
  ReplyReader& reader = pump_.reader();
  co_await transport_.async_write(asio::buffer(plan.request.payload), asio::use_awaitable);
  std::vector<Reply> replies;
  Reply reply;
  while (replies.size() < expected) {
    switch (reader.next(reply)) {
      case ReplyReader::Status::reply:
        replies.push_back(std::move(reply));
        continue;
      case ReplyReader::Status::error:
        throw Error(errc::protocol_error,
                    transport_.peer() + ": handshake: " + reader.error_message());
      case ReplyReader::Status::need_more:
        break;
    }
    std::size_t n =
        co_await transport_.async_read_some(asio::buffer(read_buffer_), asio::use_awaitable);
    reader.feed(read_buffer_.data(), n);
  }
  Reply tracking_reply;
  if (tracking) {
    tracking_reply = std::move(replies.back());
    replies.pop_back();
  }
  check_handshake(plan, Reply::array(std::move(replies)));
  if (tracking) check_tracking(*tracking, tracking_reply);
  // Bytes after the last handshake reply answer nothing we sent; left in the reader they would
  // be taken for the first request's reply.
  if (const std::size_t extra = reader.buffered(); extra > 0) {
    throw Error(errc::protocol_error, transport_.peer() + ": handshake: the server sent " +
                                          std::to_string(extra) + " bytes nobody asked for");
  }
}

}  // namespace asyncredis::detail
