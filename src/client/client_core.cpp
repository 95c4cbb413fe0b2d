#include "client/client_core.hpp"

#include <limits>
#include <random>

#include <boost/asio/post.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "net/tls_context.hpp"

namespace asyncredis::detail {

namespace {

void post_void(const asio::any_io_executor& executor, VoidHandler handler,
               std::exception_ptr error) {
  asio::post(executor, [h = std::move(handler), error]() mutable { std::move(h)(error); });
}

std::exception_ptr make_error(errc code, const std::string& what) {
  return std::make_exception_ptr(Error(code, what));
}

}  // namespace

// ---- LeaseCore
// -----------------------------------------------------------------------------

LeaseCore::LeaseCore(std::shared_ptr<Connection> connection, std::weak_ptr<ClientCore> owner)
    : connection_(std::move(connection)),
      owner_(std::move(owner)),
      executor_(owner_.lock() ? owner_.lock()->executor() : asio::any_io_executor()) {}

LeaseCore::~LeaseCore() {
  if (auto owner = owner_.lock()) {
    owner->release_lease(std::move(connection_));
  } else {
    connection_->stop(false, [](std::exception_ptr) {});
  }
}

void LeaseCore::submit(Request&& request, ReplyHandler&& handler) {
  connection_->submit(std::move(request), std::move(handler));
}

asio::any_io_executor LeaseCore::executor() const {
  return executor_;
}

// ---- ClientCore: connecting
// ----------------------------------------------------------------

ClientCore::ClientCore(asio::any_io_executor executor, RedisSettings settings, int db)
    : settings_(std::move(settings)),
      db_(db),
      executor_(std::move(executor)),
      tls_(make_tls_context(settings_)) {
  seed_ = std::random_device{}();
  connections_.reserve(settings_.max_connections);
  for (std::size_t i = 0; i < settings_.max_connections; ++i) {
    connections_.push_back(make_connection());
  }
}

std::shared_ptr<Connection> ClientCore::make_connection() {
  return std::make_shared<Connection>(executor_, settings_, tls_, db_, seed_.fetch_add(1));
}

void ClientCore::connect(VoidHandler handler) {
  State expected = State::idle;
  if (!state_.compare_exchange_strong(expected, State::connecting)) {
    if (expected == State::connected) {
      post_void(executor_, std::move(handler), nullptr);
    } else {
      post_void(executor_, std::move(handler),
                make_error(errc::invalid_argument,
                           "connect() called while the client is connecting or closing"));
    }
    return;
  }
  auto self = shared_from_this();
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
}

void ClientCore::disconnect(VoidHandler handler) {
  State expected = State::connected;
  if (!state_.compare_exchange_strong(expected, State::disconnecting)) {
    if (expected == State::idle || expected == State::closed) {
      post_void(executor_, std::move(handler), nullptr);
    } else {
      post_void(executor_, std::move(handler),
                make_error(errc::invalid_argument,
                           "disconnect() called while the client is connecting or closing"));
    }
    return;
  }
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
  auto self = shared_from_this();
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
    asio::post(executor_, [h = std::move(waiter->handler)]() mutable {
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
    if (!candidate.is_up()) continue;
    const std::size_t load = candidate.load();
    if (load < best_load) {
      best = &candidate;
      best_load = load;
      if (load == 0) break;
    }
  }
  // None is up: queue on one anyway; it is sent after the reconnect or times
  // out.
  return best != nullptr ? *best : *connections_[start];
}

void ClientCore::reject(ReplyHandler&& handler, errc code, const char* what) {
  deliver(Completion{std::move(handler), make_error(code, what), Reply()}, executor_, false);
}

void ClientCore::submit(Request&& request, ReplyHandler&& handler) {
  switch (state_.load(std::memory_order_acquire)) {
    case State::connected:
      pick().submit(std::move(request), std::move(handler));
      return;
    case State::idle:
    case State::connecting:
      reject(std::move(handler), errc::not_connected, "not connected: call connect() first");
      return;
    case State::disconnecting:
    case State::closed:
      reject(std::move(handler), errc::shutting_down, "the client is shutting down");
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
    asio::post(executor_, [h = std::move(handler)]() mutable {
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
  waiter->timer = std::make_shared<asio::steady_timer>(executor_, settings_.connect_timeout);
  lease_waiters_.push_back(waiter);
  // Armed under the lock: release_lease() on another thread may cancel it
  // the moment the waiter is visible, and a timer is not thread-safe.
  waiter->timer->async_wait([weak = weak_from_this(), waiter](boost::system::error_code ec) {
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
  auto connection =
      std::make_shared<Connection>(executor_, settings_, tls_, db_, seed_.fetch_add(1),
                                   /*reconnect=*/false);
  auto self = shared_from_this();
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
  auto lease = std::make_shared<LeaseCore>(std::move(connection), weak_from_this());
  asio::post(executor_, [h = std::move(handler), lease = std::move(lease)]() mutable {
    std::move(h)(nullptr, std::move(lease));
  });
}

void ClientCore::release_lease(std::shared_ptr<Connection> connection) {
  const bool reusable =
      state_.load() == State::connected && connection->load() == 0 && connection->is_up();
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
    connection->stop(false, [](std::exception_ptr) {});
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
