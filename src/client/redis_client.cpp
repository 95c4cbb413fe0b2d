// RedisClient's and Lease's non-template members: thin forwards to the pool.
#include "asyncredis/client.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "client/client_core.hpp"
#include "cluster/cluster_core.hpp"
#include "cluster/slot.hpp"
#include "net/movable_handler.hpp"

namespace asyncredis {

RedisClient::RedisClient(boost::asio::any_io_executor executor, RedisSettings settings,
                         std::optional<int> db) {
  settings.validate();
  const int selected = db.value_or(settings.is_cluster() ? 0 : settings.cache_db);
  if (selected < 0) {
    throw Error(errc::invalid_setting,
                "RedisClient db: " + std::to_string(selected) + " is not a database number");
  }
  if (settings.is_cluster()) {
    if (selected != 0) {
      throw Error(errc::invalid_setting, "RedisClient db: " + std::to_string(selected) +
                                             ": Redis Cluster has only database 0");
    }
    cluster_ = std::make_shared<detail::ClusterCore>(std::move(executor), std::move(settings));
    sink_ = cluster_.get();
    return;
  }
  core_ = std::make_shared<detail::ClientCore>(std::move(executor), std::move(settings), selected);
  sink_ = core_.get();
}

RedisClient::~RedisClient() {
  if (core_) core_->shutdown();
  if (cluster_) cluster_->shutdown();
}

void RedisClient::start_connect(VoidHandler handler) {
  if (cluster_) return cluster_->connect(std::move(handler));
  core_->connect(std::move(handler));
}

void RedisClient::start_disconnect(VoidHandler handler) {
  if (cluster_) return cluster_->disconnect(std::move(handler));
  core_->disconnect(std::move(handler));
}

void RedisClient::start_lease(LeaseHandler handler, const std::string* key) {
  std::shared_ptr<detail::ClientCore> pool = core_;
  std::exception_ptr refused;
  if (cluster_) {
    if (!key) {
      refused = std::make_exception_ptr(
          Error(errc::invalid_argument,
                "lease(): a cluster client has no lease for any key (a lease is one node's "
                "connection); use lease_for(key), or transaction() with keys of one hash slot"));
    } else {
      try {
        pool = cluster_->slot_master(detail::slot_of(*key));
      } catch (...) {
        refused = std::current_exception();
      }
    }
  }
  // Completes on the caller's executor (the pool completes on the client's).
  const auto finish = [fallback = get_executor()](detail::MovableHandler<LeaseHandler>& handler,
                                                  std::exception_ptr error,
                                                  std::shared_ptr<detail::LeaseCore> lease) {
    auto h = handler.take();
    auto executor = boost::asio::get_associated_executor(h, fallback);
    boost::asio::dispatch(executor, [h = std::move(h), error, lease = std::move(lease)]() mutable {
      if (error) {
        std::move(h)(error, Lease());
      } else {
        std::move(h)(nullptr, Lease(std::move(lease)));
      }
    });
  };
  detail::MovableHandler<LeaseHandler> movable(std::move(handler));
  if (refused) {
    boost::asio::post(get_executor(), [movable = std::move(movable), finish, refused]() mutable {
      finish(movable, refused, nullptr);
    });
    return;
  }
  pool->acquire_lease(
      [movable = std::move(movable), finish](std::exception_ptr error,
                                             std::shared_ptr<detail::LeaseCore> lease) mutable {
        finish(movable, error, std::move(lease));
      });
}

boost::asio::any_io_executor RedisClient::get_executor() const noexcept {
  return cluster_ ? cluster_->executor() : core_->executor();
}
const RedisSettings& RedisClient::settings() const noexcept {
  return cluster_ ? cluster_->settings() : core_->settings();
}
int RedisClient::database() const noexcept {
  return cluster_ ? 0 : core_->database();
}
PoolStats RedisClient::stats() const noexcept {
  return cluster_ ? cluster_->stats() : core_->stats();
}

detail::ClientCore& RedisClient::subscriber_pool() const {
  if (!cluster_) return *core_;
  return *cluster_->any_master();
}

namespace detail {
void throw_no_connection() {
  throw Error(errc::not_connected,
              "no connection: this is a default-constructed or released Lease (or a view of one)");
}
}  // namespace detail

Lease::Lease(std::shared_ptr<detail::LeaseCore> core)
    : BlockingCommands<Commands>(core.get()), core_(std::move(core)) {}

Lease::Lease(Lease&& other) noexcept
    : BlockingCommands<Commands>(other), core_(std::move(other.core_)) {
  other.sink_ = nullptr;
}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Commands::operator=(other);
    core_ = std::move(other.core_);
    other.sink_ = nullptr;
  }
  return *this;
}

Lease::~Lease() = default;

void Lease::release() noexcept {
  core_.reset();
  sink_ = nullptr;
}

}  // namespace asyncredis
