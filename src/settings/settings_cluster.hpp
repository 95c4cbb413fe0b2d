// The Redis Cluster parts of RedisSettings' URL reader and writer, its environment reader and
// validate() (settings_cluster.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

// How an error names the values read_from takes.
inline constexpr std::string_view kReadFromNames = "master, replica_preferred or replica";

// "master", "replica_preferred" or "replica" (exactly; to_string()'s names); nullopt otherwise.
std::optional<ReadFrom> parse_read_from(std::string_view text);

// "host:port,host:port" (a cluster URL's hosts, REDIS_CLUSTER_NODES) into seed nodes, port 6379
// when omitted; `name` names the setting in errors.
std::vector<ClusterNode> parse_cluster_list(std::string_view name, std::string_view list);

// Makes `nodes` the seed nodes, host and port the first one's (there is at least one).
void set_cluster_nodes(RedisSettings& settings, std::vector<ClusterNode> nodes);

// What a URL's query says about Redis Cluster: ?cluster=yes|no and ?read_from=...
struct ClusterQuery {
  std::optional<bool> cluster;
  std::optional<ReadFrom> read_from;
};

// Finishes from_url() for Redis Cluster once the hosts (several: already the seed nodes), the
// database and the query are read: cluster=yes makes the one host a seed node, read_from is
// applied. Throws Error(errc::invalid_setting) naming the URL part when cluster=yes is in a
// unix:// URL, cluster=no comes with several hosts, read_from without a cluster, or a cluster
// URL picks a database other than 0.
void apply_cluster_query(RedisSettings& settings, const ClusterQuery& query, bool unix_url);

// Appends what follows the user information in url()'s cluster form:
// "host:port,host:port/db", then "?cluster=yes" for a single node and "read_from=..." unless
// it is master.
void append_cluster_url_tail(std::string& out, const RedisSettings& settings, int db);

// validate()'s cluster checks: settings.cluster always; over a cluster the seed nodes' hosts
// and ports, no sentinels, no unix_socket, cache_db 0. Throws Error(errc::invalid_setting)
// "RedisSettings.<field>: ..." naming the value.
void validate_cluster(const RedisSettings& settings);

}  // namespace asyncredis::detail
