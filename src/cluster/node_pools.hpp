// The cluster's connections: one pool (a ClientCore, multiplexed and automatically pipelined,
// as a single-node client has) per node, opened the first time a request needs that node.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/settings.hpp"
#include "client/client_core.hpp"
#include "net/node_address.hpp"

namespace asyncredis::detail {

class NodePools {
 public:
  NodePools(asio::any_io_executor executor, const RedisSettings& settings);

  // The node's pool, opened (in the background: requests wait for it) when there is none.
  // After a close: a pool that is not opened, which refuses every request (not_connected).
  std::shared_ptr<ClientCore> get(const NodeAddress& address);
  // Lets go of the pools of nodes not in `keep`: what they still carry completes first.
  void retire_all_but(const std::vector<NodeAddress>& keep);
  // After a close, get() opens pools again (connect() after disconnect()).
  void reopen();
  // Every pool now.
  std::vector<std::shared_ptr<ClientCore>> all() const;
  // Graceful: each pool lets its requests complete (disconnect_timeout), then closes.
  void close_gracefully(VoidHandler done);
  // At once: pending requests fail with shutting_down.
  void shutdown();

 private:
  RedisSettings node_settings(const NodeAddress& address) const;
  // Every pool, out of the map, which stays closed until reopen().
  std::vector<std::shared_ptr<ClientCore>> take_all();

  const asio::any_io_executor executor_;
  const RedisSettings& settings_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::uint16_t>, std::shared_ptr<ClientCore>> pools_;
  bool closed_ = false;
};

}  // namespace asyncredis::detail
