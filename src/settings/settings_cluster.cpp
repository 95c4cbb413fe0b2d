// Redis Cluster settings from a URL and the environment, back into a URL, and their
// validation. A cluster URL is a redis:// (rediss://) URL with several hosts, or one host and
// ?cluster=yes: the hosts are seed nodes, and a plain one-host URL keeps meaning one server.
#include "settings/settings_cluster.hpp"

#include <utility>

#include "asyncredis/error.hpp"
#include "settings/settings_address.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis {

std::string_view to_string(ReadFrom read_from) noexcept {
  switch (read_from) {
    case ReadFrom::master:
      return "master";
    case ReadFrom::replica_preferred:
      return "replica_preferred";
    case ReadFrom::replica:
      return "replica";
  }
  return "unknown";  // a value cast from outside the enumeration; validate() refuses it
}

namespace detail {

namespace {

constexpr std::uint16_t kClusterPort = 6379;

[[noreturn]] void fail_url(std::string_view part, const std::string& what) {
  throw Error(errc::invalid_setting, "REDIS URL " + std::string(part) + ": " + what);
}

[[noreturn]] void fail_field(std::string_view field, const std::string& what) {
  throw Error(errc::invalid_setting, "RedisSettings." + std::string(field) + ": " + what);
}

}  // namespace

std::optional<ReadFrom> parse_read_from(std::string_view text) {
  for (const ReadFrom read_from :
       {ReadFrom::master, ReadFrom::replica_preferred, ReadFrom::replica}) {
    if (text == to_string(read_from)) return read_from;
  }
  return std::nullopt;
}

std::vector<ClusterNode> parse_cluster_list(std::string_view name, std::string_view list) {
  return parse_address_list<ClusterNode>(name, list, kClusterPort);
}

void set_cluster_nodes(RedisSettings& settings, std::vector<ClusterNode> nodes) {
  settings.cluster_nodes = std::move(nodes);
  settings.host = settings.cluster_nodes.front().host;
  settings.port = settings.cluster_nodes.front().port;
}

void apply_cluster_query(RedisSettings& settings, const ClusterQuery& query, bool unix_url) {
  if (query.cluster == true) {
    if (unix_url) {
      fail_url("cluster",
               "a unix:// URL cannot be a Redis Cluster; its nodes are reached over "
               "TCP, e.g. redis://host:7000,host:7001");
    }
    if (!settings.is_cluster()) {
      settings.cluster_nodes.push_back(ClusterNode{settings.host, settings.port});
    }
  } else if (query.cluster == false && settings.is_cluster()) {
    fail_url("cluster", "is no, but the URL names several hosts, which make a Redis Cluster");
  }
  if (query.read_from) {
    if (!settings.is_cluster()) {
      fail_url("read_from", "applies to Redis Cluster only; name several hosts or add cluster=yes");
    }
    settings.cluster.read_from = *query.read_from;
  }
  if (settings.is_cluster() && settings.cache_db != 0) {
    fail_url("database", quoted_value(std::to_string(settings.cache_db)) +
                             ": Redis Cluster has only database 0");
  }
}

void append_cluster_url_tail(std::string& out, const RedisSettings& settings, int db) {
  append_address_list(out, settings.cluster_nodes);
  out.append("/").append(std::to_string(db));
  char separator = '?';
  if (settings.cluster_nodes.size() == 1) {
    out.append("?cluster=yes");
    separator = '&';
  }
  if (settings.cluster.read_from != ReadFrom::master) {
    out.push_back(separator);
    out.append("read_from=").append(to_string(settings.cluster.read_from));
  }
}

void validate_cluster(const RedisSettings& settings) {
  const ClusterOptions& options = settings.cluster;
  if (!parse_read_from(to_string(options.read_from))) {
    fail_field("cluster.read_from", std::to_string(static_cast<int>(options.read_from)) +
                                        " is not " + std::string(kReadFromNames));
  }
  if (options.refresh_interval.count() < 0) {
    fail_field("cluster.refresh_interval", std::to_string(options.refresh_interval.count()) +
                                               "ms must be >= 0 (0: refresh on events only)");
  }
  if (options.max_redirections < 1) {
    fail_field("cluster.max_redirections",
               std::to_string(options.max_redirections) + " must be >= 1");
  }
  if (!settings.is_cluster()) return;

  check_addresses("RedisSettings.cluster_nodes", settings.cluster_nodes);
  if (settings.sentinel.enabled()) {
    fail_field("cluster_nodes", std::to_string(settings.cluster_nodes.size()) +
                                    " seed node(s) given together with sentinel.sentinels (" +
                                    std::to_string(settings.sentinel.sentinels.size()) +
                                    "); a client uses either Redis Cluster or Sentinel");
  }
  if (!settings.unix_socket.empty()) {
    fail_field("cluster_nodes", "cannot be used with unix_socket " +
                                    quoted_value(settings.unix_socket) +
                                    "; cluster nodes are reached over TCP");
  }
  if (settings.cache_db != 0) {
    fail_field("cache_db",
               std::to_string(settings.cache_db) + ": Redis Cluster has only database 0");
  }
}

}  // namespace detail
}  // namespace asyncredis
