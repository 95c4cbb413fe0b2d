#include "cluster/node_pools.hpp"

#include <algorithm>
#include <atomic>

#include <boost/asio/post.hpp>

#include "net/movable_handler.hpp"

namespace asyncredis::detail {

NodePools::NodePools(asio::any_io_executor executor, const RedisSettings& settings)
    : executor_(std::move(executor)), settings_(settings) {}

RedisSettings NodePools::node_settings(const NodeAddress& address) const {
  RedisSettings settings = settings_;
  // The node's own address; cluster_nodes stays, so the handshake knows it talks to a
  // cluster node (READONLY when reads may go to replicas).
  settings.host = address.host;
  settings.port = address.port;
  // A node known to be down refuses at once what it has not written: the cluster operation
  // then waits for the map to give the slot to another node (a failover) instead of leaving
  // the request queued on a node that may never come back.
  settings.fail_fast = true;
  return settings;
}

std::shared_ptr<ClientCore> NodePools::get(const NodeAddress& address) {
  std::lock_guard lock(mutex_);
  auto& pool = pools_[{address.host, address.port}];
  if (!pool) {
    pool = std::make_shared<ClientCore>(executor_, node_settings(address), 0);
    if (!closed_) pool->open();
  }
  return pool;
}

void NodePools::retire_all_but(const std::vector<NodeAddress>& keep) {
  std::vector<std::shared_ptr<ClientCore>> retired;
  {
    std::lock_guard lock(mutex_);
    for (auto it = pools_.begin(); it != pools_.end();) {
      const bool kept = std::any_of(keep.begin(), keep.end(), [&](const NodeAddress& node) {
        return node.host == it->first.first && node.port == it->first.second;
      });
      if (kept) {
        ++it;
      } else {
        retired.push_back(std::move(it->second));
        it = pools_.erase(it);
      }
    }
  }
  for (auto& pool : retired) {
    pool->disconnect([pool](std::exception_ptr) {});
  }
}

void NodePools::reopen() {
  std::lock_guard lock(mutex_);
  closed_ = false;
}

std::vector<std::shared_ptr<ClientCore>> NodePools::all() const {
  std::vector<std::shared_ptr<ClientCore>> out;
  std::lock_guard lock(mutex_);
  for (const auto& [address, pool] : pools_) out.push_back(pool);
  return out;
}

std::vector<std::shared_ptr<ClientCore>> NodePools::take_all() {
  std::vector<std::shared_ptr<ClientCore>> taken;
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& [address, pool] : pools_) taken.push_back(std::move(pool));
  pools_.clear();
  return taken;
}

void NodePools::close_gracefully(VoidHandler done) {
  std::vector<std::shared_ptr<ClientCore>> closing = take_all();
  if (closing.empty()) {
    asio::post(executor_, [h = std::move(done)]() mutable { std::move(h)(nullptr); });
    return;
  }
  struct Countdown {
    std::atomic<std::size_t> left;
    MovableHandler<VoidHandler> handler;
  };
  auto countdown = std::make_shared<Countdown>();
  countdown->left = closing.size();
  countdown->handler = std::move(done);
  for (auto& pool : closing) {
    pool->disconnect([pool, countdown](std::exception_ptr) {
      if (countdown->left.fetch_sub(1) == 1) countdown->handler(nullptr);
    });
  }
}

void NodePools::shutdown() {
  std::vector<std::shared_ptr<ClientCore>> closing = take_all();
  for (auto& pool : closing) pool->shutdown();
}

}  // namespace asyncredis::detail
