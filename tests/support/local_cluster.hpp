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
#include "support/tls_certs.hpp"

namespace asyncredis::test {

struct LocalClusterOptions {
  std::size_t masters = 3;
  std::size_t replicas_per_master = 1;
  // cluster-node-timeout: how long before a silent node is failed over.
  std::chrono::milliseconds node_timeout{1000};
  std::string password;  // requirepass and masterauth of every node; "": none
  // With certificates: every node also listens on a TLS port, the cluster bus and replication
  // are TLS, and the nodes announce their TLS ports to TLS clients (client_settings() then is
  // TLS, verified against the CA). The plain ports stay open for the helpers below.
  const TlsCerts* tls = nullptr;
};

class LocalCluster {
 public:
  // Starts the nodes and creates the cluster; throws std::runtime_error (with what the nodes
  // say) when it is not ready within 30 s.
  explicit LocalCluster(LocalClusterOptions options = {});

  std::size_t size() const { return nodes_.size(); }
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  // The ports of the nodes that are masters now (ROLE), in node order.
  std::vector<std::uint16_t> master_ports() const;
  const RedisServer& node(std::size_t i) const { return *nodes_.at(i); }
  // The node on `port`; throws std::runtime_error when none is.
  RedisServer& node_on(std::uint16_t port);

  // Settings that reach node 0 (a seed), with its password and short timeouts.
  RedisSettings seed_settings() const { return nodes_.front()->settings(); }
  // A cluster client's settings: node 0 as the one seed (the rest is discovered), its
  // password and short timeouts.
  RedisSettings client_settings() const;
  // The node's TLS port (options.tls only).
  std::uint16_t tls_port(std::size_t i) const { return tls_ports_.at(i); }

  // The port of the master serving `slot`, as node `asked` sees it (CLUSTER SHARDS/SLOTS).
  std::uint16_t master_of(std::uint16_t slot, std::size_t asked = 0) const;

  // The port of a running replica of the master on `master` (ROLE); throws std::runtime_error
  // when it has none.
  std::uint16_t replica_of(std::uint16_t master) const;
  // Waits until the node on `port` says it is a master (ROLE) and then wait_ok(); throws
  // std::runtime_error after `limit`, like wait_ok().
  void wait_master(std::uint16_t port,
                   std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

  // The node's id (CLUSTER MYID).
  std::string id_of(std::uint16_t port) const;

  // A slot migration in steps, as `redis-cli --cluster reshard` does them: both ends marked
  // (IMPORTING on `to`, MIGRATING on `from`), keys moved with MIGRATE (at most `count`; the
  // number moved is returned), then every master told the slot's new owner.
  void begin_migration(std::uint16_t slot, std::uint16_t from, std::uint16_t to);
  std::size_t migrate_keys(std::uint16_t slot, std::uint16_t from, std::uint16_t to,
                           std::size_t count);
  void end_migration(std::uint16_t slot, std::uint16_t to);
  // All three steps, every key moved.
  void move_slot(std::uint16_t slot, std::uint16_t to);

  // Waits until every running node says cluster_state:ok, knows every running node, and
  // sees all 16384 slots served; throws std::runtime_error naming the first node that does
  // not, after `limit`.
  void wait_ok(std::chrono::milliseconds limit = std::chrono::seconds(30)) const;

 private:
  LocalClusterOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::uint16_t> tls_ports_;  // per node, with options.tls
};

}  // namespace asyncredis::test
