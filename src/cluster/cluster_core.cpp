#include "cluster/cluster_core.hpp"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/error.hpp"
#include "cluster/cluster_operation.hpp"
#include "cluster/topology_fetch.hpp"
#include "net/movable_handler.hpp"

namespace asyncredis::detail {

namespace {

NodeAddress address_of(const ClusterNode& node) {
  return NodeAddress{node.host, node.port};
}

}  // namespace

// What connect() has learnt so far: which seed it asks next and what the others said.
struct ClusterCore::Discovery {
  MovableHandler<VoidHandler> handler;
  std::size_t next_seed = 0;
  std::string failures;
};

ClusterCore::ClusterCore(asio::any_io_executor executor, RedisSettings settings)
    : settings_(std::move(settings)),
      completer_(executor),
      strand_(asio::make_strand(executor)),
      pools_(executor, settings_),
      routes_(std::make_shared<const ClusterRoutes>()),
      periodic_(strand_) {}

ClusterCore::~ClusterCore() {
  pools_.shutdown();
}

// ---- connecting

void ClusterCore::connect(VoidHandler handler) {
  State expected = State::idle;
  if (!state_.compare_exchange_strong(expected, State::connecting)) {
    std::exception_ptr error;
    if (expected != State::connected) {
      error = std::make_exception_ptr(Error(
          errc::invalid_argument, "connect() called while the client is connecting or closing"));
    }
    asio::post(executor(), [h = std::move(handler), error]() mutable { std::move(h)(error); });
    return;
  }
  pools_.reopen();
  auto discovery = std::make_shared<Discovery>();
  discovery->handler = std::move(handler);
  try_seed(std::move(discovery));
}

void ClusterCore::try_seed(std::shared_ptr<Discovery> discovery) {
  if (discovery->next_seed == settings_.cluster_nodes.size()) {
    pools_.shutdown();
    state_.store(State::idle);
    auto error = std::make_exception_ptr(
        Error(errc::not_connected, "no seed node of the cluster answered:" + discovery->failures));
    discovery->handler(error);
    return;
  }
  const NodeAddress seed = address_of(settings_.cluster_nodes[discovery->next_seed++]);
  fetch_topology(
      pools_.get(seed), seed, settings_.tls, true, settings_.connect_timeout,
      [self = self(), discovery, seed](std::exception_ptr error, FetchedTopology fetched) mutable {
        if (!error && fetched.topology.served_slots() == 0) {
          error = std::make_exception_ptr(Error(errc::not_connected, "no slot is served yet"));
        }
        if (error) {
          discovery->failures += " " + describe(seed) + ": " + error_message_of(error) + ";";
          // A seed that is not a cluster node is a setting to fix, not a node down.
          if (error_code_of(error) == errc::invalid_setting) {
            self->pools_.shutdown();
            self->state_.store(State::idle);
            return discovery->handler(error);
          }
          return self->try_seed(std::move(discovery));
        }
        self->install(std::move(fetched.topology), std::move(fetched.commands));
        State connecting = State::connecting;
        if (!self->state_.compare_exchange_strong(connecting, State::connected)) {
          error = std::make_exception_ptr(
              Error(errc::shutting_down, "the client was closed while connecting"));
        } else {
          self->arm_periodic_refresh();
        }
        discovery->handler(error);
      });
}

void ClusterCore::disconnect(VoidHandler handler) {
  State expected = State::connected;
  if (!state_.compare_exchange_strong(expected, State::disconnecting)) {
    std::exception_ptr error;
    if (expected != State::idle && expected != State::closed) {
      error = std::make_exception_ptr(Error(
          errc::invalid_argument, "disconnect() called while the client is connecting or closing"));
    }
    asio::post(executor(), [h = std::move(handler), error]() mutable { std::move(h)(error); });
    return;
  }
  asio::dispatch(strand_, [self = self()] { self->periodic_.cancel(); });
  pools_.close_gracefully([self = self(), h = std::move(handler)](std::exception_ptr) mutable {
    State disconnecting = State::disconnecting;
    self->state_.compare_exchange_strong(disconnecting, State::idle);
    std::move(h)(nullptr);
  });
}

void ClusterCore::shutdown() {
  state_.store(State::closed);
  asio::dispatch(strand_, [self = self()] { self->periodic_.cancel(); });
  pools_.shutdown();
}

PoolStats ClusterCore::stats() const noexcept {
  PoolStats total;
  for (const auto& pool : pools_.all()) {
    const PoolStats node = pool->stats();
    total.connections += node.connections;
    total.connected += node.connected;
    total.pending_requests += node.pending_requests;
    total.reconnects += node.reconnects;
    total.leases += node.leases;
  }
  return total;
}

// ---- the map

std::shared_ptr<ClientCore> ClusterCore::any_master() {
  std::string why;
  auto pool = pool_for(*routes(), Target{}, false, why);
  if (state_.load() != State::connected || !pool) {
    throw Error(errc::not_connected, "the cluster client is not connected: call connect() first");
  }
  return pool;
}

std::shared_ptr<ClientCore> ClusterCore::slot_master(std::uint16_t slot) {
  if (state_.load() != State::connected) {
    throw Error(errc::not_connected, "the cluster client is not connected: call connect() first");
  }
  std::string why;
  auto pool = pool_for(*routes(), Target{Target::Kind::slot, slot}, false, why);
  if (!pool) throw Error(errc::not_connected, why);
  return pool;
}

std::shared_ptr<const ClusterRoutes> ClusterCore::routes() const {
  std::lock_guard lock(mutex_);
  return routes_;
}

void ClusterCore::install(ClusterTopology topology, std::shared_ptr<const CommandTable> commands) {
  auto routes = std::make_shared<ClusterRoutes>();
  const bool replicas = settings_.cluster.read_from != ReadFrom::master;
  // Nodes that leave the map (a seed that is not in it, a removed node) are let go; what they
  // still carry completes first. Replicas are kept only when reads may go to them.
  std::vector<NodeAddress> keep;
  for (const auto& shard : topology.shards()) {
    routes->masters.push_back(pools_.get(shard.master));
    keep.push_back(shard.master);
    routes->replicas.emplace_back();
    if (!replicas) continue;
    for (const auto& replica : shard.replicas) {
      routes->replicas.back().push_back(pools_.get(replica));
      keep.push_back(replica);
    }
  }
  routes->topology = std::move(topology);
  {
    std::lock_guard lock(mutex_);
    routes->commands = commands ? std::move(commands) : routes_->commands;
    routes_ = std::move(routes);
  }
  pools_.retire_all_but(keep);
}

std::shared_ptr<ClientCore> ClusterCore::pool_for(const ClusterRoutes& routes, const Target& target,
                                                  bool readonly, std::string& why) {
  const std::size_t shards = routes.masters.size();
  std::size_t shard = 0;
  switch (target.kind) {
    case Target::Kind::slot:
      shard = routes.topology.shard_of(target.value);
      if (shard == ClusterTopology::kNoShard || shard >= shards) {
        why = "CLUSTERDOWN Hash slot " + std::to_string(target.value) +
              " is not served by any node the client knows";
        return nullptr;
      }
      break;
    case Target::Kind::shard:
      shard = target.value;
      if (shard >= shards) {
        why = "CLUSTERDOWN the cluster has fewer shards than when the request was planned";
        return nullptr;
      }
      break;
    case Target::Kind::any:
      if (shards == 0) {
        why = "CLUSTERDOWN no node of the cluster is known";
        return nullptr;
      }
      shard = replica_cursor_.fetch_add(1, std::memory_order_relaxed) % shards;
      break;
  }
  const ReadFrom read_from = settings_.cluster.read_from;
  if (readonly && read_from != ReadFrom::master) {
    const auto& replicas = routes.replicas[shard];
    if (!replicas.empty()) {
      return replicas[replica_cursor_.fetch_add(1, std::memory_order_relaxed) % replicas.size()];
    }
    if (read_from == ReadFrom::replica) {
      why = "CLUSTERDOWN read_from is replica, and the shard of " +
            describe(routes.topology.shards()[shard].master) + " has no healthy replica";
      return nullptr;
    }
  }
  return routes.masters[shard];
}

void ClusterCore::moved(const Redirect& redirect) {
  {
    std::lock_guard lock(mutex_);
    auto routes = std::make_shared<ClusterRoutes>();
    routes->commands = routes_->commands;
    routes->topology = routes_->topology;
    routes->topology.move_slot(redirect.slot, redirect.target);
    // Shards may have come (a master the map did not know) or gone (one left without slots):
    // the pools follow the shards by their masters' addresses.
    const auto& old_shards = routes_->topology.shards();
    for (const auto& shard : routes->topology.shards()) {
      routes->masters.push_back(pools_.get(shard.master));
      const auto same =
          std::find_if(old_shards.begin(), old_shards.end(),
                       [&](const ClusterShard& s) { return s.master == shard.master; });
      routes->replicas.push_back(same == old_shards.end()
                                     ? std::vector<std::shared_ptr<ClientCore>>{}
                                     : routes_->replicas[same - old_shards.begin()]);
    }
    routes_ = std::move(routes);
  }
  request_refresh();
}

void ClusterCore::request_refresh() {
  if (state_.load() != State::connected) return;
  if (refreshing_.exchange(true)) return;  // one at a time: it will see this change too
  refresh_from(refresh_cursor_.fetch_add(1), 0);
}

// Asks the map's nodes in turn, starting from a different one each time, and the seeds that
// are not in the map last; a node that does not answer passes the question on, until every
// one was asked once.
void ClusterCore::refresh_from(std::size_t start, std::size_t attempt) {
  std::vector<NodeAddress> nodes = routes()->topology.nodes();
  const std::size_t known = nodes.size();
  for (const auto& seed : settings_.cluster_nodes) {
    const NodeAddress address = address_of(seed);
    if (std::find(nodes.begin(), nodes.end(), address) == nodes.end()) nodes.push_back(address);
  }
  if (attempt >= nodes.size() || state_.load() != State::connected) {
    refreshing_.store(false);
    return;
  }
  const NodeAddress node = attempt < known ? nodes[(start + attempt) % known] : nodes[attempt];
  fetch_topology(
      pools_.get(node), node, settings_.tls, false, settings_.connect_timeout,
      [self = self(), start, attempt](std::exception_ptr error, FetchedTopology fetched) {
        if (error || fetched.topology.served_slots() == 0) {
          return self->refresh_from(start, attempt + 1);
        }
        if (self->state_.load() == State::connected) {
          self->install(std::move(fetched.topology));
        }
        self->refreshing_.store(false);
      });
}

void ClusterCore::arm_periodic_refresh() {
  const auto interval = settings_.cluster.refresh_interval;
  if (interval.count() <= 0) return;
  asio::dispatch(strand_, [self = self(), interval] {
    self->periodic_.expires_after(interval);
    self->periodic_.async_wait(
        [weak = std::weak_ptr<ClusterCore>(self)](boost::system::error_code ec) {
          auto self = weak.lock();
          if (ec || !self || self->state_.load() != State::connected) return;
          self->request_refresh();
          self->arm_periodic_refresh();
        });
  });
}

// ---- requests

void ClusterCore::refuse(ReplyHandler&& handler, errc code, const std::string& what) {
  completer_.call(std::move(handler), false, std::make_exception_ptr(Error(code, what)), Reply());
}

void ClusterCore::submit(Request&& request, ReplyHandler&& handler) {
  switch (state_.load(std::memory_order_acquire)) {
    case State::connected:
      break;
    case State::idle:
    case State::connecting:
      return refuse(std::move(handler), errc::not_connected, "not connected: call connect() first");
    case State::disconnecting:
    case State::closed:
      return refuse(std::move(handler), errc::shutting_down, "the client is shutting down");
  }
  ClusterOperation::start(self(), std::move(request), std::move(handler));
}

}  // namespace asyncredis::detail
