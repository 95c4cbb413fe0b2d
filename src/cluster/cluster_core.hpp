// The core of a RedisClient in cluster mode: the slot map and the command table learnt from
// the nodes, a pool per node, and the refresh of the map. Each request's journey (routing,
// redirections, merging) is a ClusterOperation (cluster_operation.hpp).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/settings.hpp"
#include "cluster/command_table.hpp"
#include "cluster/node_pools.hpp"
#include "cluster/redirect.hpp"
#include "cluster/request_plan.hpp"
#include "cluster/topology.hpp"
#include "net/completer.hpp"

namespace asyncredis::detail {

// Who serves each slot, with the pools to reach them: replaced whole, never changed in place,
// so a request reads one consistent map without a lock held.
struct ClusterRoutes {
  std::shared_ptr<const CommandTable> commands;  // learnt at connect()
  ClusterTopology topology;
  std::vector<std::shared_ptr<ClientCore>> masters;                // per shard
  std::vector<std::vector<std::shared_ptr<ClientCore>>> replicas;  // per shard, with read_from
};

class ClusterCore final : public RequestSink {
 public:
  // Settings are validated by the caller (RedisClient); cluster_nodes is not empty.
  ClusterCore(asio::any_io_executor executor, RedisSettings settings);
  ~ClusterCore() override;

  // Plans the request (cross_slot and invalid_argument refusals come from here), then sends
  // each piece to its node (see ClusterOperation).
  void submit(Request&& request, ReplyHandler&& handler) override;
  asio::any_io_executor executor() const override { return completer_.executor(); }

  // Asks the seed nodes in turn for the command table and the slot map; completes once one
  // answered, or with an error naming what each seed said.
  void connect(VoidHandler handler);
  void disconnect(VoidHandler handler);
  void shutdown();

  PoolStats stats() const noexcept;
  const RedisSettings& settings() const noexcept { return settings_; }
  // A master's pool (for a Subscriber). Throws Error(errc::not_connected) before connect().
  std::shared_ptr<ClientCore> any_master();
  // The pool of the master serving `slot` now (for a lease). Throws Error(errc::not_connected)
  // before connect() or when the map has no master for the slot.
  std::shared_ptr<ClientCore> slot_master(std::uint16_t slot);

  // At most one ClientTracking follows a client: false when one does already.
  bool claim_tracking() noexcept { return !tracking_claimed_.exchange(true); }
  void release_tracking() noexcept { tracking_claimed_.store(false); }

  // ---- for ClusterOperation
  std::shared_ptr<const ClusterRoutes> routes() const;
  // The pool for `target` (a replica's for a readonly piece when read_from allows); null
  // with `why` set when the map has no node for it.
  std::shared_ptr<ClientCore> pool_for(const ClusterRoutes& routes, const Target& target,
                                       bool readonly, std::string& why);
  std::shared_ptr<ClientCore> pool_at(const NodeAddress& address) { return pools_.get(address); }
  // A MOVED: the slot's new owner goes into the map at once, and the whole map is asked for.
  void moved(const Redirect& redirect);
  // Something says the map may be stale (a node lost, CLUSTERDOWN): ask for it again.
  void request_refresh();
  const Completer& completer() const noexcept { return completer_; }
  std::shared_ptr<ClusterCore> self() {
    return std::static_pointer_cast<ClusterCore>(shared_from_this());
  }

 private:
  enum class State : std::uint8_t { idle, connecting, connected, disconnecting, closed };
  struct Discovery;

  void try_seed(std::shared_ptr<Discovery> discovery);
  // A new map (and, at connect(), the command table; null keeps the current one).
  void install(ClusterTopology topology, std::shared_ptr<const CommandTable> commands = nullptr);
  void refresh_from(std::size_t start, std::size_t attempt);
  void arm_periodic_refresh();
  void refuse(ReplyHandler&& handler, errc code, const std::string& what);

  const RedisSettings settings_;
  Completer completer_;
  asio::strand<asio::any_io_executor> strand_;  // the refresh timer and its state
  NodePools pools_;
  std::atomic<State> state_{State::idle};

  mutable std::mutex mutex_;  // routes_
  std::shared_ptr<const ClusterRoutes> routes_;

  std::atomic<bool> tracking_claimed_{false};
  std::atomic<bool> refreshing_{false};
  std::atomic<std::size_t> refresh_cursor_{0};  // where the next refresh starts asking
  std::atomic<std::size_t> replica_cursor_{0};
  asio::steady_timer periodic_;
};

}  // namespace asyncredis::detail
