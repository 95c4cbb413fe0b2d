// SubscriberCore's messages: what the connection (or a shard core) pushes, on its way to
// receive() through the bounded buffer, and the receive()s waiting for it.
#include <boost/asio/associated_cancellation_slot.hpp>

#include "asyncredis/error.hpp"
#include "pubsub/pushed_message.hpp"
#include "pubsub/subscriber_core.hpp"

namespace asyncredis::detail {

namespace {

// Installed in a receive()'s cancellation slot; runs on the thread that emits the signal.
class CancelReceive {
 public:
  CancelReceive(std::weak_ptr<SubscriberCore> core, std::uint64_t id)
      : core_(std::move(core)), id_(id) {}
  void operator()(asio::cancellation_type) {
    if (auto core = core_.lock()) core->cancel_receive(id_);
  }

 private:
  std::weak_ptr<SubscriberCore> core_;
  std::uint64_t id_;
};

}  // namespace

void SubscriberCore::on_pushes(std::vector<Reply>& pushed) {
  std::vector<Message> messages;
  std::vector<std::string> dropped;
  DropWatcher watcher;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::open) return;
    for (Reply& reply : pushed) {
      if (auto name = unsubscribed_shard_channel(reply)) {
        // Unasked when the name is still registered: the node gave the channel's slot away.
        if (shard_channels_.erase(*name) > 0) dropped.push_back(std::move(*name));
      } else if (auto message = message_of(std::move(reply))) {
        messages.push_back(std::move(*message));
      }
    }
    watcher = drop_watcher_;
  }
  if (!dropped.empty() && watcher) watcher(std::move(dropped));
  if (messages.empty()) return;
  if (const auto owner = owner_.lock()) {
    owner->accept(std::move(messages));
  } else {
    accept(std::move(messages));
  }
}

void SubscriberCore::accept(std::vector<Message>&& messages) {
  std::vector<Delivery> deliveries;
  bool overflowed = false;
  {
    std::lock_guard lock(mutex_);
    for (Message& message : messages) {
      if (state_ != State::open && state_ != State::idle) break;
      if (message.kind != Message::Kind::resubscribed) ++received_;
      if (resubscribing_) {
        held_.push(std::move(message));
        continue;
      }
      if (message.kind == Message::Kind::resubscribed) {
        ++resubscriptions_;
        take(std::move(message), deliveries);
      } else if (!waiters_.empty() && buffer_.empty()) {
        take(std::move(message), deliveries);
      } else if (!buffer_.push(std::move(message))) {
        state_ = State::overloaded;
        overflowed = true;
        break;
      }
    }
  }
  deliver(deliveries, true);
  if (overflowed) stop_links();
}

void SubscriberCore::note_gap() {
  Message event;
  event.kind = Message::Kind::resubscribed;
  std::vector<Message> events;
  events.push_back(std::move(event));
  accept(std::move(events));
}

void SubscriberCore::take(Message&& message, std::vector<Delivery>& out) {
  if (!waiters_.empty() && buffer_.empty()) {
    out.push_back(Delivery{std::move(waiters_.front().handler), nullptr, std::move(message)});
    waiters_.pop_front();
    return;
  }
  buffer_.push(std::move(message));  // an event, or held messages: dropped, never refused
  pair_waiters(out);
}

void SubscriberCore::pair_waiters(std::vector<Delivery>& out) {
  while (!waiters_.empty()) {
    std::optional<Message> message = buffer_.pop();
    if (!message && state_ != State::closed && state_ != State::overloaded) return;
    Delivery delivery{std::move(waiters_.front().handler), nullptr, std::move(message)};
    if (!delivery.message) {
      if (shut_down_) {
        delivery.error =
            std::make_exception_ptr(Error(errc::shutting_down, "the subscriber was destroyed"));
      } else if (state_ == State::overloaded) {
        delivery.error = closed_error();
      }
    }
    waiters_.pop_front();
    out.push_back(std::move(delivery));
  }
}

void SubscriberCore::receive(MessageHandler handler) {
  std::vector<Delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    auto slot = asio::get_associated_cancellation_slot(handler);
    const std::uint64_t id = ++next_waiter_;
    // Installed before the waiter can be completed, under the lock the cancellation takes.
    if (slot.is_connected()) slot.template emplace<CancelReceive>(weak_from_this(), id);
    waiters_.push_back(Waiter{id, std::move(handler)});
    pair_waiters(deliveries);
  }
  deliver(deliveries, false);
}

std::optional<Message> SubscriberCore::try_receive() {
  std::lock_guard lock(mutex_);
  // receive()s that wait were there first; while any waits, the buffer is empty anyway.
  if (!waiters_.empty()) return std::nullopt;
  return buffer_.pop();
}

void SubscriberCore::cancel_receive(std::uint64_t id) {
  std::vector<Delivery> deliveries;
  {
    std::lock_guard lock(mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
      if (it->id != id) continue;
      deliveries.push_back(Delivery{
          std::move(it->handler),
          std::make_exception_ptr(Error(errc::cancelled, "receive() cancelled")), std::nullopt});
      waiters_.erase(it);
      break;
    }
  }
  deliver(deliveries, false);
}

void SubscriberCore::deliver(std::vector<Delivery>& deliveries, bool may_run_inline) {
  for (Delivery& d : deliveries) {
    completer_.call(d.handler.take(), may_run_inline, d.error, std::move(d.message));
  }
}

}  // namespace asyncredis::detail
