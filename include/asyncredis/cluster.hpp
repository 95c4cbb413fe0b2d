// Redis Cluster settings: the seed nodes and how the client uses the cluster it finds there.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace asyncredis {

/// One seed node of a Redis Cluster: where the client first asks for the cluster's layout.
struct ClusterNode {
  std::string host;           ///< host name or IP address (IPv6 without brackets)
  std::uint16_t port = 6379;  ///< the node's TCP port

  /// Equal when host and port are.
  friend bool operator==(const ClusterNode&, const ClusterNode&) = default;
};

/// Which nodes of a Redis Cluster serve read-only commands.
enum class ReadFrom : std::uint8_t {
  master,             ///< the slot's master only: reads see every acknowledged write
  replica_preferred,  ///< a replica of the slot when one is up, else its master
  replica,            ///< a replica of the slot only; the reads may lag behind the master
};

/// "master", "replica_preferred" or "replica": the name the URL's read_from and
/// REDIS_CLUSTER_READ_FROM take. Never fails.
std::string_view to_string(ReadFrom read_from) noexcept;

/// How the client works with the cluster it discovers from RedisSettings::cluster_nodes.
struct ClusterOptions {
  ReadFrom read_from = ReadFrom::master;  ///< where read-only commands go
  /// How often the cluster's layout is read again even without a sign that it changed (a
  /// MOVED reply or a lost node); 0: only on such events.
  std::chrono::milliseconds refresh_interval{std::chrono::seconds(30)};
  /// How many MOVED or ASK replies each command of a request follows before the caller gets
  /// the last one (a server_error); >= 1. TRYAGAIN and CLUSTERDOWN are retried, with a pause,
  /// until the request's timeout instead.
  int max_redirections = 5;

  /// Equal when every field is.
  friend bool operator==(const ClusterOptions&, const ClusterOptions&) = default;
};

}  // namespace asyncredis
