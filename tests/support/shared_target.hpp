// SharedTarget: what a shared-server suite (shared_server.hpp) runs against. One redis-server,
// or, when the environment says ASYNCREDIS_TEST_TARGET=cluster, a LocalCluster (3 masters, 3
// replicas): CTest registers the services' suites a second time that way, so every one of
// their tests also runs over a Redis Cluster without being written twice.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "asyncredis/settings.hpp"
#include "support/local_cluster.hpp"
#include "support/redis_server.hpp"

namespace asyncredis::test {

class SharedTarget {
 public:
  // Starts the server, or the cluster when ASYNCREDIS_TEST_TARGET is "cluster"; any other
  // value than "" and "server" throws std::invalid_argument naming it.
  SharedTarget();
  ~SharedTarget();

  // Whether this is the cluster.
  bool is_cluster() const { return cluster_ != nullptr; }

  // A client's settings: the server's, or the cluster's one seed with every database 0 (a
  // cluster has no other).
  RedisSettings settings() const;

  // Runs redis-cli with `args`, as RedisServer::cli. On the cluster, FLUSHALL, FLUSHDB,
  // SCRIPT and CONFIG go to every master (the first one's answer is returned), INFO too (every
  // answer, one after another), a command with
  // a key (args[1]) to the master serving the key's slot, anything else to node 0.
  std::string cli(const std::vector<std::string>& args) const;

  // The server's port, or node 0's.
  std::uint16_t port() const;

 private:
  std::unique_ptr<RedisServer> server_;
  std::unique_ptr<LocalCluster> cluster_;
};

}  // namespace asyncredis::test
