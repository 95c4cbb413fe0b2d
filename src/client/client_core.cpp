#include "client/client_core.hpp"

#include <limits>
#include <random>

#include <boost/asio/post.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "client/command_policy.hpp"
#include "net/tls_context.hpp"
#include "observe/observation.hpp"
#include "sentinel/sentinel_resolver.hpp"
#include "sentinel/sentinel_watcher.hpp"

namespace asyncredis::detail {

namespace {

void post_void(const asio::any_io_executor& executor, VoidHandler handler,
               std::exception_ptr error) {
  asio::post(executor, [h = std::move(handler), error]() mutable { std::move(h)(error); });
}

std::exception_ptr make_error(errc code, const std::string& what) {
  return std::make_exception_ptr(Error(code, what));
}

std::size_t share(std::size_t total, std::size_t parts) {
  return total / parts + (total % parts != 0 ? 1 : 0);
}

// A request refused before it reached a connection: `observer` (if any) sees it start and
// end at once, with no node.
void refuse(const Request& request, ReplyHandler&& handler, std::exception_ptr error,
            CommandObserver* observer, const Completer& completer) {
  if (observer != nullptr) report(*observe(*observer, request, {}), {}, error, Reply());
  completer(Completion{std::move(handler), std::move(error), Reply(), nullptr}, false);
}

// For a request whose commands the caller named: completes `handler` with their refusal on a
// connection used as `use`; false when they may run there.
bool refuse_commands(const Request& request, ReplyHandler& handler, ConnectionUse use,
                     CommandObserver* observer, const Completer& completer) {
  auto why = refusal(request.bytes(), use);
  if (!why) return false;
  refuse(request, std::move(handler), make_error(errc::invalid_argument, *why), observer,
         completer);
  return true;
}

}  // namespace

// ---- LeaseCore
// -----------------------------------------------------------------------------

LeaseCore::LeaseCore(std::shared_ptr<Connection> connection, std::weak_ptr<ClientCore> owner)
    : connection_(std::move(connection)),
      owner_(std::move(owner)),
      completer_(owner_.lock() ? owner_.lock()->executor() : asio::any_io_executor()) {}

LeaseCore::~LeaseCore() {
  if (auto owner = owner_.lock()) {
    owner->release_lease(std::move(connection_));
  } else {
    connection_->stop(false, [](std::exception_ptr) {});
  }
}

void LeaseCore::submit(Request&& request, ReplyHandler&& handler) {
  if (request.check_commands && refuse_commands(request, handler, ConnectionUse::exclusive,
                                                connection_->observer(), completer_)) {
    return;
  }
  connection_->submit(std::move(request), std::move(handler), Observe::yes);
}

asio::any_io_executor LeaseCore::executor() const {
  return completer_.executor();
}

// ---- ClientCore: connecting
// ----------------------------------------------------------------

ClientCore::ClientCore(asio::any_io_executor executor, RedisSettings settings, int db)
    : settings_(std::move(settings)),
      db_(db),
      completer_(std::move(executor)),
      limits_{share(settings_.max_queued_requests, settings_.max_connections),
              share(settings_.max_queued_bytes, settings_.max_connections),
              settings_.max_reply_size},
      tls_(make_tls_context(settings_)) {
  seed_ = std::random_device{}();
  if (settings_.sentinel.enabled()) sentinel_ = std::make_shared<SentinelResolver>(settings_);
  connections_.reserve(settings_.max_connections);
  for (std::size_t i = 0; i < settings_.max_connections; ++i) {
    connections_.push_back(make_connection(ConnectionRole::pooled));
    connections_.back()->set_tracking(tracking_);
  }
  if (sentinel_) {
    const std::vector<std::weak_ptr<Connection>> pool(connections_.begin(), connections_.end());
    watcher_ = std::make_shared<SentinelWatcher>(completer_.executor(), sentinel_, pool);
  }
}

std::shared_ptr<Connection> ClientCore::make_connection(ConnectionRole role,
                                                        std::weak_ptr<PushListener> listener) {
  auto connection = std::make_shared<Connection>(
      executor(), settings_, tls_, db_, seed_.fetch_add(1), limits_, role, std::move(listener));
  if (sentinel_) connection->follow(sentinel_);
  return connection;
}

void ClientCore::connect(VoidHandler handler) {
  State expected = State::idle;
  if (!state_.compare_exchange_strong(expected, State::connecting)) {
    if (expected == State::connected) {
      post_void(executor(), std::move(handler), nullptr);
    } else {
      post_void(executor(), std::move(handler),
                make_error(errc::invalid_argument,
                           "connect() called while the client is connecting or closing"));
    }
    return;
  }
  auto self = this->self();
  connections_.front()->start([self, h = std::move(handler)](std::exception_ptr failure) mutable {
    if (!failure) {
      State connecting = State::connecting;
      if (!self->state_.compare_exchange_strong(connecting, State::connected)) {
        failure = make_error(errc::shutting_down, "the client was closed while connecting");
      }
    } else {
      for (auto& connection : self->connections_) {
        connection->stop(false, [](std::exception_ptr) {});
      }
      State connecting = State::connecting;
      self->state_.compare_exchange_strong(connecting, State::idle);
    }
    std::move(h)(failure);
  });
  for (std::size_t i = 1; i < connections_.size(); ++i) {
    connections_[i]->start([](std::exception_ptr) {});
  }
  if (watcher_) watcher_->start();
}

void ClientCore::open() {
  State expected = State::idle;
  if (!state_.compare_exchange_strong(expected, State::connected)) return;
  for (auto& connection : connections_) connection->start([](std::exception_ptr) {});
}

void ClientCore::disconnect(VoidHandler handler) {
  State expected = State::connected;
  if (!state_.compare_exchange_strong(expected, State::disconnecting)) {
    if (expected == State::idle || expected == State::closed) {
      post_void(executor(), std::move(handler), nullptr);
    } else {
      post_void(executor(), std::move(handler),
                make_error(errc::invalid_argument,
                           "disconnect() called while the client is connecting or closing"));
    }
    return;
  }
  if (watcher_) watcher_->stop();
  std::vector<std::shared_ptr<Connection>> closing = connections_;
  {
    std::lock_guard lock(lease_mutex_);
    closing.insert(closing.end(), idle_leases_.begin(), idle_leases_.end());
    idle_leases_.clear();
  }
  struct Countdown {
    std::atomic<std::size_t> left;
    MovableHandler<VoidHandler> handler;
  };
  auto countdown = std::make_shared<Countdown>();
  countdown->left = closing.size();
  countdown->handler = std::move(handler);
  auto self = this->self();
  for (auto& connection : closing) {
    connection->stop(true, [self, countdown](std::exception_ptr) {
      if (countdown->left.fetch_sub(1) != 1) return;
      State disconnecting = State::disconnecting;
      self->state_.compare_exchange_strong(disconnecting, State::idle);
      std::move(countdown->handler)(nullptr);
    });
  }
}

void ClientCore::shutdown() {
  state_.store(State::closed);
  if (watcher_) watcher_->stop();
  for (auto& connection : connections_) connection->stop(false, [](std::exception_ptr) {});
  std::vector<std::shared_ptr<Connection>> idle;
  std::deque<std::shared_ptr<LeaseWaiter>> waiters;
  {
    std::lock_guard lock(lease_mutex_);
    idle.swap(idle_leases_);
    waiters.swap(lease_waiters_);
    // A timer is not thread-safe: every touch of a waiter's timer happens
    // under lease_mutex_, because lease() may be called from any thread.
    for (auto& waiter : waiters) waiter->timer->cancel();
  }
  for (auto& connection : idle) connection->stop(false, [](std::exception_ptr) {});
  for (auto& waiter : waiters) {
    asio::post(executor(), [h = std::move(waiter->handler)]() mutable {
      std::move(h)(make_error(errc::shutting_down, "the client is shutting down"), nullptr);
    });
  }
}

// ---- ClientCore: requests
// ------------------------------------------------------------------

Connection& ClientCore::pick() noexcept {
  const std::size_t n = connections_.size();
  if (n == 1) return *connections_.front();
  const std::size_t start = next_.fetch_add(1, std::memory_order_relaxed) % n;
  Connection* best = nullptr;
  std::size_t best_load = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < n; ++i) {
    Connection& candidate = *connections_[(start + i) % n];
    // A connection that owes replies sends nothing until they come (maybe never: a blocking
    // command on a lease's connection, a server gone silent).
    if (!candidate.is_up() || candidate.owes()) continue;
    const std::size_t load = candidate.load();
    if (load < best_load) {
      best = &candidate;
      best_load = load;
      if (load == 0) break;
    }
  }
  // None is ready: queue on one anyway; it is sent after the reconnect or times out (or
  // fails at once with fail_fast).
  return best != nullptr ? *best : *connections_[start];
}

void ClientCore::reject(const Request& request, ReplyHandler&& handler, errc code,
                        const char* what) {
  refuse(request, std::move(handler), make_error(code, what), settings_.observer.get(), completer_);
}

void ClientCore::submit(Request&& request, ReplyHandler&& handler) {
  if (request.check_commands && refuse_commands(request, handler, ConnectionUse::shared,
                                                settings_.observer.get(), completer_)) {
    return;
  }
  switch (state_.load(std::memory_order_acquire)) {
    case State::connected:
      pick().submit(std::move(request), std::move(handler), Observe::yes);
      return;
    case State::idle:
    case State::connecting:
      reject(request, std::move(handler), errc::not_connected,
             "not connected: call connect() first");
      return;
    case State::disconnecting:
    case State::closed:
      reject(request, std::move(handler), errc::shutting_down, "the client is shutting down");
      return;
  }
}

PoolStats ClientCore::stats() const noexcept {
  PoolStats stats;
  stats.connections = connections_.size();
  for (const auto& connection : connections_) {
    if (connection->is_up()) ++stats.connected;
    stats.pending_requests += connection->load();
    stats.reconnects += connection->reconnects();
  }
  std::lock_guard lock(lease_mutex_);
  stats.leases = leases_out_;
  return stats;
}

// ---- ClientCore: leases
// --------------------------------------------------------------------

void ClientCore::acquire_lease(LeaseReady handler) {
  if (state_.load() != State::connected) {
    asio::post(executor(), [h = std::move(handler)]() mutable {
      std::move(h)(make_error(errc::not_connected, "lease(): the client is not connected"),
                   nullptr);
    });
    return;
  }
  std::unique_lock lock(lease_mutex_);
  if (!idle_leases_.empty()) {
    auto connection = std::move(idle_leases_.back());
    idle_leases_.pop_back();
    ++leases_out_;
    lock.unlock();
    hand_over(std::move(connection), std::move(handler));
    return;
  }
  if (leases_out_ < settings_.max_connections) {
    ++leases_out_;
    lock.unlock();
    open_lease_connection(std::move(handler));
    return;
  }
  auto waiter = std::make_shared<LeaseWaiter>();
  waiter->handler = std::move(handler);
  waiter->timer = std::make_shared<asio::steady_timer>(executor(), settings_.connect_timeout);
  lease_waiters_.push_back(waiter);
  // Armed under the lock: release_lease() on another thread may cancel it
  // the moment the waiter is visible, and a timer is not thread-safe.
  waiter->timer->async_wait([weak = weak_self(), waiter](boost::system::error_code ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    {
      std::lock_guard guard(self->lease_mutex_);
      auto& waiters = self->lease_waiters_;
      auto it = std::find(waiters.begin(), waiters.end(), waiter);
      if (it == waiters.end()) return;  // served meanwhile
      waiters.erase(it);
    }
    std::move(waiter->handler)(
        make_error(errc::timeout, "lease(): every connection stayed leased for " +
                                      std::to_string(self->settings_.connect_timeout.count()) +
                                      " ms"),
        nullptr);
  });
}

void ClientCore::open_lease_connection(LeaseReady handler) {
  auto connection = make_connection(ConnectionRole::leased);
  auto self = this->self();
  connection->start([self, connection, h = std::move(handler)](std::exception_ptr failure) mutable {
    if (!failure) {
      self->hand_over(std::move(connection), std::move(h));
      return;
    }
    connection->stop(false, [](std::exception_ptr) {});
    {
      std::lock_guard lock(self->lease_mutex_);
      --self->leases_out_;
    }
    std::move(h)(failure, nullptr);
  });
}

void ClientCore::hand_over(std::shared_ptr<Connection> connection, LeaseReady handler) {
  auto lease = std::make_shared<LeaseCore>(std::move(connection), weak_self());
  asio::post(executor(), [h = std::move(handler), lease = std::move(lease)]() mutable {
    std::move(h)(nullptr, std::move(lease));
  });
}

void ClientCore::release_lease(std::shared_ptr<Connection> connection) {
  const bool open = state_.load() == State::connected;
  // A connection that still has requests on it (the holder let go mid-request, or a blocking
  // command timed out and still blocks) must not reach another holder.
  const bool reusable =
      open && connection->load() == 0 && !connection->owes() && connection->is_up();
  if (reusable) {
    // Whatever the holder left behind (an open MULTI, WATCHed keys) must not
    // leak into the next holder's commands. DISCARD outside MULTI just answers
    // an error, which is ignored.
    Request reset;
    encode_command(reset.payload, "DISCARD");
    encode_command(reset.payload, "UNWATCH");
    reset.reply_count = 2;
    reset.deliver = Deliver::array;
    connection->submit(std::move(reset), [](std::exception_ptr, Reply&&) {});
  } else {
    // Requests still on it finish (within disconnect_timeout) unless the client is closing.
    connection->stop(open, [](std::exception_ptr) {});
  }
  std::shared_ptr<LeaseWaiter> waiter;
  {
    std::lock_guard lock(lease_mutex_);
    if (!lease_waiters_.empty()) {
      waiter = std::move(lease_waiters_.front());
      lease_waiters_.pop_front();
      waiter->timer->cancel();
    } else {
      --leases_out_;
      if (reusable) idle_leases_.push_back(std::move(connection));
      return;
    }
  }
  if (reusable) {
    hand_over(std::move(connection), std::move(waiter->handler));
  } else {
    open_lease_connection(std::move(waiter->handler));
  }
}

}  // namespace asyncredis::detail
