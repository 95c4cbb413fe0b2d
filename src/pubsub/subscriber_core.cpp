#include "pubsub/subscriber_core.hpp"

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associator.hpp>

#include "asyncredis/command.hpp"
#include "client/client_core.hpp"
#include "pubsub/pushed_message.hpp"

namespace asyncredis::detail {

namespace {

const char* command_of(SubscriberCore::Kind kind, bool add) {
  switch (kind) {
    case SubscriberCore::Kind::channel:
      return add ? "subscribe" : "unsubscribe";
    case SubscriberCore::Kind::pattern:
      return add ? "psubscribe" : "punsubscribe";
    case SubscriberCore::Kind::shard_channel:
      return add ? "ssubscribe" : "sunsubscribe";
  }
  return "";
}

// One command per name (see subscriber_core.hpp); the replies come back as one array.
Request request_for(SubscriberCore::Kind kind, bool add, const std::vector<std::string>& names) {
  Request request;
  for (const std::string& name : names)
    encode_command(request.payload, command_of(kind, add), name);
  request.reply_count = static_cast<std::uint32_t>(names.size());
  request.deliver = Deliver::array;
  return request;
}

// Null when every reply confirms its name; else why not.
std::exception_ptr check_confirmations(SubscriberCore::Kind kind, bool add,
                                       const std::vector<std::string>& names,
                                       const Reply& replies) {
  const std::vector<Reply>& each = replies.elements();
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i < each.size() && each[i].is_error()) {
      return std::make_exception_ptr(Error(errc::server_error, each[i].str()));
    }
    if (i >= each.size() || !confirms(each[i], command_of(kind, add), names[i])) {
      return std::make_exception_ptr(Error(
          errc::protocol_error,
          std::string("the server did not confirm ") + command_of(kind, add) + " " + names[i]));
    }
  }
  return nullptr;
}

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

std::exception_ptr shutting_down(const char* what) {
  return std::make_exception_ptr(Error(errc::shutting_down, what));
}

}  // namespace

std::shared_ptr<SubscriberCore> SubscriberCore::create(ClientCore& client,
                                                       SubscriberOptions options) {
  auto core = std::make_shared<SubscriberCore>(client, options);
  core->connection_ = client.make_connection(ConnectionRole::subscriber, core);
  return core;
}

SubscriberCore::SubscriberCore(ClientCore& client, SubscriberOptions options)
    : options_(options), completer_(client.executor()), buffer_(options), held_(options) {}

std::set<std::string>& SubscriberCore::names_of(Kind kind) {
  switch (kind) {
    case Kind::pattern:
      return patterns_;
    case Kind::shard_channel:
      return shard_channels_;
    case Kind::channel:
      break;
  }
  return channels_;
}

std::exception_ptr SubscriberCore::closed_error() const {
  if (state_ == State::overloaded) {
    return std::make_exception_ptr(
        Error(errc::overloaded, "the subscriber closed: its consumer fell " +
                                    std::to_string(options_.max_messages) +
                                    " messages (or max_bytes) behind (WhenFull::disconnect)"));
  }
  return shutting_down("the subscriber is closed");
}

// ---- subscriptions
// --------------------------------------------------------------------------

void SubscriberCore::change(Kind kind, bool add, std::vector<std::string> names,
                            VoidHandler handler) {
  auto fail = [&](std::exception_ptr error) { completer_.call(std::move(handler), false, error); };
  if (names.empty()) {
    return fail(std::make_exception_ptr(
        Error(errc::invalid_argument, std::string(command_of(kind, add)) + " of no name")));
  }
  std::unique_lock lock(mutex_);
  if (state_ == State::closed || state_ == State::overloaded) {
    const auto error = closed_error();
    lock.unlock();
    return fail(error);
  }
  std::set<std::string>& registry = names_of(kind);
  for (const std::string& name : names) {
    if (add) {
      registry.insert(name);
    } else {
      registry.erase(name);
    }
  }
  Change change{kind, add, std::move(names), std::move(handler)};
  switch (state_) {
    case State::idle:
      if (!add) {  // nothing was ever subscribed on this connection
        lock.unlock();
        completer_.call(change.handler.take(), false, std::exception_ptr());
        return;
      }
      state_ = State::connecting;
      pending_.push_back(std::move(change));
      lock.unlock();
      connection_->start([weak = weak_from_this()](std::exception_ptr failure) {
        if (auto self = weak.lock()) self->on_first_attempt(failure);
      });
      return;
    case State::connecting:
      pending_.push_back(std::move(change));
      return;
    default:
      lock.unlock();
      send(std::move(change));
  }
}

void SubscriberCore::send(Change&& change) {
  Request request = request_for(change.kind, change.add, change.names);
  // Subscribing twice, or unsubscribing twice, changes nothing: safe to send again.
  request.retry_on_reconnect = true;
  connection_->submit(std::move(request), Confirm{weak_from_this(), change.kind, change.add,
                                                  std::move(change.names), change.handler.take()});
}

void SubscriberCore::Confirm::operator()(std::exception_ptr error, Reply&& replies) {
  if (!error) error = check_confirmations(kind, add, names, replies);
  if (error && add) {
    // The caller learns it failed: it must not come back with the next reconnect.
    if (auto self = core.lock()) {
      std::lock_guard lock(self->mutex_);
      for (const std::string& name : names) self->names_of(kind).erase(name);
    }
  }
  std::move(handler)(error);
}

void SubscriberCore::on_first_attempt(std::exception_ptr failure) {
  std::vector<Change> pending;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::connecting) return;  // closed meanwhile
    pending.swap(pending_);
    if (failure) {
      state_ = State::idle;
      for (const Change& change : pending) {
        for (const std::string& name : change.names) names_of(change.kind).erase(name);
      }
    } else {
      state_ = State::open;
    }
  }
  if (failure) connection_->stop(false, [](std::exception_ptr) {});
  for (Change& change : pending) {
    if (failure) {
      std::move(change.handler)(failure);
    } else {
      send(std::move(change));
    }
  }
}

// After a reconnect: everything subscribed is subscribed again, in one request, before what
// waits; messages wait behind the resubscribed event until it is confirmed.
void SubscriberCore::on_connected(bool first) {
  ask_client_id();
  if (first) return;  // on_first_attempt() sends what was asked meanwhile
  Request request;
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::open) return;
    std::uint32_t count = 0;
    for (Kind kind : {Kind::channel, Kind::pattern, Kind::shard_channel}) {
      for (const std::string& name : names_of(kind)) {
        encode_command(request.payload, command_of(kind, true), name);
        ++count;
      }
    }
    if (count == 0) return;
    request.reply_count = count;
    request.deliver = Deliver::array;
    resubscribing_ = true;
    generation = ++resubscribe_generation_;
  }
  connection_->submit(std::move(request),
                      [weak = weak_from_this(), generation](std::exception_ptr error, Reply&&) {
                        auto self = weak.lock();
                        // Lost again before the confirmations: the next connection tries again.
                        if (self && !error) self->resubscribed(generation);
                      });
}

// First on the connection, before any SUBSCRIBE: a subscribed RESP2 connection may not ask.
void SubscriberCore::ask_client_id() {
  Request request;
  encode_command(request.payload, "CLIENT", "ID");
  std::uint64_t link = 0;
  {
    std::lock_guard lock(mutex_);
    link = link_generation_;
  }
  connection_->submit(std::move(request),
                      [weak = weak_from_this(), link](std::exception_ptr error, Reply&& reply) {
                        const auto self = weak.lock();
                        if (!self || error || !reply.is_integer())
                          return;  // lost again: the next one asks
                        std::lock_guard lock(self->mutex_);
                        if (self->link_generation_ == link) self->client_id_ = reply.integer();
                      });
}

void SubscriberCore::on_lost() {
  LinkWatcher watcher;
  {
    std::lock_guard lock(mutex_);
    client_id_.reset();
    ++link_generation_;
    watcher = link_watcher_;
  }
  if (watcher) watcher(std::nullopt);
}

void SubscriberCore::watch_link(LinkWatcher watcher) {
  std::lock_guard lock(mutex_);
  link_watcher_ = std::move(watcher);
}

std::optional<std::int64_t> SubscriberCore::client_id() const {
  std::lock_guard lock(mutex_);
  return client_id_;
}

std::uint64_t SubscriberCore::link_generation() const {
  std::lock_guard lock(mutex_);
  return link_generation_;
}

void SubscriberCore::resubscribed(std::uint64_t generation) {
  std::vector<Delivery> deliveries;
  LinkWatcher watcher;
  std::optional<std::int64_t> id;
  {
    std::lock_guard lock(mutex_);
    if (generation != resubscribe_generation_ || !resubscribing_) return;
    resubscribing_ = false;
    ++resubscriptions_;
    Message event;
    event.kind = Message::Kind::resubscribed;
    take(std::move(event), deliveries);
    while (auto held = held_.pop()) take(std::move(*held), deliveries);
    watcher = link_watcher_;
    id = client_id_;
  }
  deliver(deliveries, true);
  if (watcher && id) watcher(id);
}

// ---- messages
// -------------------------------------------------------------------------------

void SubscriberCore::on_pushes(std::vector<Reply>& pushed) {
  std::vector<Delivery> deliveries;
  bool overflowed = false;
  {
    std::lock_guard lock(mutex_);
    for (Reply& reply : pushed) {
      std::optional<Message> message = message_of(std::move(reply));
      if (!message || state_ != State::open) continue;
      ++received_;
      if (resubscribing_) {
        held_.push(std::move(*message));
        continue;
      }
      if (!waiters_.empty() && buffer_.empty()) {
        take(std::move(*message), deliveries);
      } else if (!buffer_.push(std::move(*message))) {
        state_ = State::overloaded;
        overflowed = true;
        break;
      }
    }
  }
  deliver(deliveries, true);
  if (overflowed) connection_->stop(false, [](std::exception_ptr) {});
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
        delivery.error = shutting_down("the subscriber was destroyed");
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

// ---- the end
// ----------------------------------------------------------------------------------

void SubscriberCore::close() {
  std::vector<Delivery> deliveries;
  std::vector<Change> pending;
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::closed) return;
    state_ = State::closed;
    channels_.clear();
    patterns_.clear();
    shard_channels_.clear();
    pending.swap(pending_);
    held_.clear();
    resubscribing_ = false;
    pair_waiters(deliveries);
  }
  connection_->stop(false, [](std::exception_ptr) {});
  for (Change& change : pending) {
    std::move(change.handler)(shutting_down("the subscriber was closed while connecting"));
  }
  deliver(deliveries, false);
}

void SubscriberCore::shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
    buffer_.clear();
  }
  close();
}

SubscriberStats SubscriberCore::stats() const {
  std::lock_guard lock(mutex_);
  SubscriberStats stats;
  stats.received = received_;
  stats.dropped = buffer_.dropped_total() + held_.dropped_total();
  stats.resubscribed = resubscriptions_;
  stats.buffered = buffer_.size() + held_.size();
  stats.channels = channels_.size();
  stats.patterns = patterns_.size();
  stats.shard_channels = shard_channels_.size();
  return stats;
}

}  // namespace asyncredis::detail

// A confirmation runs where the subscribe()'s caller wants it to, and is cancelled with it.
template <template <class, class> class Associator, class DefaultCandidate>
struct boost::asio::associator<Associator, asyncredis::detail::SubscriberCore::Confirm,
                               DefaultCandidate>
    : Associator<asyncredis::detail::SubscriberCore::VoidHandler, DefaultCandidate> {
  using Handler = asyncredis::detail::SubscriberCore::VoidHandler;
  static auto get(const asyncredis::detail::SubscriberCore::Confirm& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler);
  }
  static auto get(const asyncredis::detail::SubscriberCore::Confirm& h,
                  const DefaultCandidate& c) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler, c);
  }
};
