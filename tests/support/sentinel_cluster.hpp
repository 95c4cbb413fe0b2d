// SentinelCluster: 1 master, 2 replicas and 3 sentinels (redis-server --sentinel), each a
// RedisServer on a free port in its own directory, with short down-after-milliseconds and
// failover-timeout, ready once every sentinel knows the master, its 2 replicas and the other
// sentinels. Every process is stopped by pid with the cluster (RedisServer's destructor).
// With TLS certificates in the options, the deployment is reached over TLS only.
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

struct SentinelClusterOptions {
  std::string master_name = "mymaster";
  std::string password;           // the data nodes' requirepass (and masterauth); "": none
  std::string sentinel_password;  // the sentinels' requirepass; "": none
  std::chrono::milliseconds down_after{1000};
  std::chrono::milliseconds failover_timeout{3000};
  // When set (it must outlive the cluster): every data node and sentinel listens on a TLS
  // port (certs->server(), trusting certs->ca(), no client certificate asked for), the
  // replicas replicate and the sentinels monitor and talk to each other over TLS
  // (tls-replication), so the sentinels name TLS ports only; settings() is TLS throughout.
  // The data nodes close their plain port once started (TLS only: node_cli() talks TLS); the
  // sentinels keep theirs (one cannot close it at run time, and RedisServer's readiness
  // probe and cli() are plain), which only the fixture uses.
  const TlsCerts* tls = nullptr;
};

class SentinelCluster {
 public:
  static constexpr std::size_t kNodes = 3;  // data nodes: the master first, then 2 replicas
  static constexpr std::size_t kSentinels = 3;

  explicit SentinelCluster(SentinelClusterOptions options = {});

  const SentinelClusterOptions& options() const { return options_; }
  // Data node `i` (0: the first master); its role changes with failovers.
  RedisServer& node(std::size_t i) { return *nodes_.at(i); }
  RedisServer& sentinel(std::size_t i) { return *sentinels_.at(i); }
  // The port the sentinels and clients reach data node `i` / sentinel `i` on: its TLS port
  // with options().tls, else its port().
  std::uint16_t node_port(std::size_t i) const { return node_ports_.at(i); }
  std::uint16_t sentinel_port(std::size_t i) const { return sentinel_ports_.at(i); }

  // Client settings over the sentinels: their addresses, the master's name, both passwords,
  // short timeouts (connect 1 s, commands 2 s, reconnect backoff 20-200 ms); with
  // options().tls, TLS to the sentinels and to the data nodes, verified against its CA.
  RedisSettings settings() const;

  // The port of the master as the first running sentinel that answers names it; 0: none does.
  std::uint16_t master_port() const;
  // The indexes of the data nodes other than the master the sentinels name.
  std::vector<std::size_t> replica_nodes() const;
  // SET `key` `value` on that master, then WAIT until both replicas have it (up to 2 s).
  void set_replicated(const std::string& key, const std::string& value) const;
  // The data node on `port` (as node_port() gives it).
  RedisServer& node_on(std::uint16_t port);
  // RedisServer::cli() on data node `i`, over TLS with options().tls (node(i).cli() cannot
  // reach a TLS-only node).
  std::string node_cli(std::size_t i, const std::vector<std::string>& args) const;
  // "master" or "slave": ROLE's first word on data node `i`; "" when it does not answer (a
  // node being converted to a replica closes every client's connection).
  std::string role(std::size_t i) const;

  // Waits until every running sentinel names the master on `master_port` with `replicas`
  // healthy replicas (and sees the other running sentinels), and every running data node
  // agrees with them (ROLE). Throws std::runtime_error
  // (with what the sentinels say) when that has not happened within `limit`.
  void wait_settled(std::uint16_t master_port, std::size_t replicas,
                    std::chrono::milliseconds limit = std::chrono::seconds(20)) const;

  // SENTINEL FAILOVER through the first running sentinel.
  void failover() const;
  // Blocks (redis-cli) until the sentinels name a master other than the one on `old_port`;
  // returns its port, or 0 if they have not within `limit`.
  std::uint16_t wait_new_master(std::uint16_t old_port,
                                std::chrono::milliseconds limit = std::chrono::seconds(20)) const;

 private:
  // Starts a server with `options`, plus a TLS port (TLS arguments `tls_args`, then
  // `extra_args`) when options().tls; appends it to `servers` and its port to `ports`.
  void start(RedisServerOptions options, const std::vector<std::string>& tls_args,
             const std::vector<std::string>& extra_args,
             std::vector<std::unique_ptr<RedisServer>>& servers, std::vector<std::uint16_t>& ports);
  // Field/value lines of `SENTINEL <what> <name>` from sentinel `i`.
  std::vector<std::string> ask(std::size_t i, const std::string& what) const;

  SentinelClusterOptions options_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
  std::vector<std::unique_ptr<RedisServer>> sentinels_;
  std::vector<std::uint16_t> node_ports_;
  std::vector<std::uint16_t> sentinel_ports_;
};

}  // namespace asyncredis::test
