// Connection over Sentinel: where to connect, and when to move (see connection.hpp).
#include <utility>

#include <boost/asio/dispatch.hpp>

#include "net/connection.hpp"
#include "sentinel/sentinel_resolver.hpp"

namespace asyncredis::detail {

asio::awaitable<std::exception_ptr> Connection::connect_attempt() {
  std::exception_ptr failure = co_await connect_once();
  const auto wrong_role = [&] {
    return failure && error_message_of(failure).find("handshake ROLE") != std::string::npos;
  };
  // Bounded: the sentinels may name only the wrong node for a while.
  for (std::size_t tries = 1;
       sentinel_ && wrong_role() && tries < sentinel_->size() + 1 && state_ == State::connecting;
       ++tries) {
    failure = co_await connect_once();
  }
  co_return failure;
}

asio::awaitable<std::exception_ptr> Connection::resolve_target() {
  if (move_target_) {  // a planned move: its target, once (a failed attempt asks the sentinels)
    const NodeAddress target = *std::exchange(move_target_, std::nullopt);
    transport_.retarget(target.host, target.port);
    std::lock_guard lock(node_mutex_);
    observed_node_ = transport_.peer();
    co_return nullptr;
  }
  std::exception_ptr failure;
  try {
    // Each attempt of a replica connection may land on another replica: a dead one is left.
    const NodeAddress target = co_await sentinel_->resolve(strand_, spread_++);
    transport_.retarget(target.host, target.port);
    std::lock_guard lock(node_mutex_);
    observed_node_ = transport_.peer();
  } catch (const Error&) {
    failure = std::current_exception();
  }
  co_return failure;
}

bool Connection::is_readonly(const Completion& done) const {
  const auto readonly = [](const Reply& r) {
    return r.is_error() && r.str().starts_with("READONLY");
  };
  if (readonly(done.reply)) return true;
  if (!done.reply.is_array()) return false;
  for (const Reply& r : done.reply.elements()) {
    if (readonly(r)) return true;
  }
  return false;
}

void Connection::relocate(const std::string& why, const std::string& node, bool only_there) {
  asio::dispatch(strand_, [self = shared_from_this(), why, node, only_there] {
    if (self->state_ != State::up || (self->node() == node) != only_there) return;
    self->lose(self->error(errc::connection_lost, why));
  });
}

void Connection::move_to(const std::string& why, NodeAddress target) {
  {
    // At once, so that whoever plans the next move counts this connection where it goes.
    std::lock_guard lock(node_mutex_);
    observed_node_ = describe(target);
  }
  asio::dispatch(strand_, [self = shared_from_this(), why, target = std::move(target)]() mutable {
    if (self->state_ == State::stopped || self->draining_) return;
    if (self->state_ == State::up && self->node() == describe(target)) return;
    self->move_target_ = std::move(target);
    self->move_reason_ = why;
    // Not up: the next connect goes there anyway.
    if (self->state_ != State::up) return;
    self->moving_ = true;
    self->finish_move_if_quiet();
  });
}

bool Connection::finish_move_if_quiet() {
  if (!moving_ || pump_.queue().written_count() > 0) return false;
  lose(error(errc::connection_lost, move_reason_), true);
  return true;
}

}  // namespace asyncredis::detail
