// LocalCluster: a Redis Cluster of real redis-server processes for one test suite: 3 masters
// and 1 replica each by default, on free ports whose bus ports (+10000) are free too, made
// with `redis-cli --cluster create`, ready once every node says cluster_state:ok with all
// 16384 slots served and every replica is in sync. Every process is stopped by pid with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "asyncredis/settings.hpp"
#include "support/redis_server.hpp"

namespace asyncredis::test {

struct LocalClusterOptions {
  std::size_t masters = 3;
  std::size_t replicas_per_master = 1;
  // cluster-node-timeout: how long before a silent node is failed over.
  std::chrono::milliseconds node_timeout{1000};
  std::string password;  // requirepass and masterauth of every node; "": none
};

class LocalCluster {
 public:
  // Starts the nodes and creates the cluster; throws std::runtime_error (with what the nodes
  // say) when it is not ready within 30 s.
  explicit LocalCluster(LocalClusterOptions options = {});

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  const RedisServer& node(std::size_t i) const { return *nodes_.at(i); }
  // The node on `port`; throws std::runtime_error when none is.
  RedisServer& node_on(std::uint16_t port);

  // Settings that reach node 0 (a seed), with its password and short timeouts.
  RedisSettings seed_settings() const { return nodes_.front()->settings(); }

  // The port of the master serving `slot`, as node `asked` sees it (CLUSTER SHARDS/SLOTS).
  std::uint16_t master_of(std::uint16_t slot, std::size_t asked = 0) const;

  // Waits until every running node says cluster_state:ok, knows every running node, and
  // sees all 16384 slots served; throws std::runtime_error naming the first node that does
  // not, after `limit`.
  void wait_ok(std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  LocalClusterOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace asyncredis::test
