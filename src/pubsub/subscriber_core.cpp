#include "pubsub/subscriber_core.hpp"

#include <boost/asio/associator.hpp>

#include "asyncredis/command.hpp"
#include "client/client_core.hpp"
#include "pubsub/pushed_message.hpp"
#include "pubsub/shard_router.hpp"

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

// SUNSUBSCRIBE's confirmations are pushes (a node also sends them unasked, see pump.cpp): a
// PING after them is the reply that says the server has done them.
bool confirmed_by_ping(SubscriberCore::Kind kind, bool add) {
  return kind == SubscriberCore::Kind::shard_channel && !add;
}

// One command per name (see subscriber_core.hpp); the replies come back as one array.
Request request_for(SubscriberCore::Kind kind, bool add, const std::vector<std::string>& names) {
  Request request;
  for (const std::string& name : names)
    encode_command(request.payload, command_of(kind, add), name);
  request.reply_count = static_cast<std::uint32_t>(names.size());
  if (confirmed_by_ping(kind, add)) {
    encode_command(request.payload, "PING");
    request.reply_count = 1;
  }
  request.deliver = Deliver::array;
  return request;
}

// Null when every reply confirms its name; else why not.
std::exception_ptr check_confirmations(SubscriberCore::Kind kind, bool add,
                                       const std::vector<std::string>& names,
                                       const Reply& replies) {
  const std::vector<Reply>& each = replies.elements();
  if (confirmed_by_ping(kind, add)) {
    // A refused SUNSUBSCRIBE would take the PING's place; the PING's reply then comes unasked
    // and the connection starts again, subscribed to what is registered.
    if (!each.empty() && each[0].is_error()) {
      return std::make_exception_ptr(Error(errc::server_error, each[0].str()));
    }
    return nullptr;
  }
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
  if (kind == Kind::shard_channel && shard_router_) {
    lock.unlock();
    shard_router_->change(add, std::move(names), std::move(handler));
    return;
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
  std::uint32_t count = 0;
  std::vector<std::pair<std::uint32_t, std::string>> shards;  // index in the reply, name
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::open) return;
    for (Kind kind : {Kind::channel, Kind::pattern, Kind::shard_channel}) {
      for (const std::string& name : names_of(kind)) {
        encode_command(request.payload, command_of(kind, true), name);
        if (kind == Kind::shard_channel) shards.emplace_back(count, name);
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
                      [weak = weak_from_this(), generation, shards = std::move(shards)](
                          std::exception_ptr error, Reply&& replies) {
                        auto self = weak.lock();
                        // Lost again before the confirmations: the next connection tries again.
                        if (!self || error) return;
                        self->refused_on_resubscribe(shards, replies);
                        self->resubscribed(generation);
                      });
}

// A shard channel refused on a reconnect (MOVED: its slot left this node while the connection
// was down) is dropped here, for the router to place again.
void SubscriberCore::refused_on_resubscribe(
    const std::vector<std::pair<std::uint32_t, std::string>>& shards, const Reply& replies) {
  std::vector<std::string> dropped;
  DropWatcher watcher;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [index, name] : shards) {
      const std::vector<Reply>& each = replies.elements();
      if (index < each.size() && each[index].is_error() && shard_channels_.erase(name) > 0) {
        dropped.push_back(name);
      }
    }
    watcher = drop_watcher_;
  }
  if (!dropped.empty() && watcher) watcher(std::move(dropped));
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

void SubscriberCore::route_shard_channels(std::shared_ptr<ShardRouter> router) {
  shard_router_ = std::move(router);
}

void SubscriberCore::forward_to(std::weak_ptr<SubscriberCore> owner) {
  owner_ = std::move(owner);
}

void SubscriberCore::watch_drops(DropWatcher watcher) {
  std::lock_guard lock(mutex_);
  drop_watcher_ = std::move(watcher);
}

bool SubscriberCore::forget_shard_channels(const std::vector<std::string>& names) {
  std::lock_guard lock(mutex_);
  for (const std::string& name : names) shard_channels_.erase(name);
  return !shard_channels_.empty();
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
  std::vector<Message> forwarded;
  LinkWatcher watcher;
  std::optional<std::int64_t> id;
  const auto owner = owner_.lock();
  {
    std::lock_guard lock(mutex_);
    if (generation != resubscribe_generation_ || !resubscribing_) return;
    resubscribing_ = false;
    ++resubscriptions_;
    Message event;
    event.kind = Message::Kind::resubscribed;
    if (owner) {
      forwarded.push_back(std::move(event));
      while (auto held = held_.pop()) forwarded.push_back(std::move(*held));
    } else {
      take(std::move(event), deliveries);
      while (auto held = held_.pop()) take(std::move(*held), deliveries);
    }
    watcher = link_watcher_;
    id = client_id_;
  }
  if (owner) owner->accept(std::move(forwarded));
  deliver(deliveries, true);
  if (watcher && id) watcher(id);
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
  stop_links();
  for (Change& change : pending) {
    std::move(change.handler)(shutting_down("the subscriber was closed while connecting"));
  }
  deliver(deliveries, false);
}

void SubscriberCore::stop_links() {
  connection_->stop(false, [](std::exception_ptr) {});
  if (shard_router_) shard_router_->close();
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
  stats.shard_channels = shard_router_ ? shard_router_->size() : shard_channels_.size();
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
