// RedisSettings: where Redis is and how to talk to it, from code, a URL or the environment.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/cluster.hpp"
#include "asyncredis/observer.hpp"
#include "asyncredis/sentinel.hpp"
#include "asyncredis/tls_settings.hpp"

namespace asyncredis {

/// The settings of the Python service's RedisSettings (same names and defaults) plus what a
/// production client needs. Plain data: set fields directly, or use from_url()/from_env().
struct RedisSettings {
  std::string host = "localhost";       ///< server host name or IP address
  std::uint16_t port = 6379;            ///< server TCP port
  std::optional<std::string> username;  ///< ACL user; none: the default user
  std::optional<std::string> password;  ///< sent with AUTH; none: no AUTH

  /// Database numbers of the services sharing this Redis.
  int cache_db = 0;          ///< the cache's; RedisClient's database unless told otherwise
  int celery_broker_db = 1;  ///< Celery's broker
  int celery_result_db = 2;  ///< Celery's result backend
  int session_db = 3;        ///< the session store's

  std::size_t max_connections = 10;       ///< multiplexed connections in the pool
  std::chrono::seconds default_ttl{300};  ///< cache entries' default lifetime

  std::string client_name;  ///< CLIENT SETNAME; empty: not sent
  std::string unix_socket;  ///< non-empty: connect here instead of host:port
  bool tls = false;         ///< connect with TLS (tls_options); set by rediss:// URLs
  TlsSettings tls_options;  ///< used when tls is on
  /// Redis Sentinel (sentinel.hpp): when sentinels are given, host and port are ignored and
  /// the master (or the replicas) is found through them; username and password above are
  /// still the data nodes'.
  SentinelSettings sentinel;
  /// Redis Cluster's seed nodes (cluster.hpp), asked in turn for the cluster's layout; the
  /// rest of the nodes are discovered. Not empty: Redis Cluster mode, where host, port and
  /// unix_socket are not used (from_url() sets host and port to the first node) and which
  /// cannot be combined with sentinel. tls and tls_options, username and password and the
  /// timeouts apply to every node; cache_db must be 0 (a cluster has only database 0).
  std::vector<ClusterNode> cluster_nodes;
  ClusterOptions cluster;  ///< how the cluster is used; read only when cluster_nodes is not empty

  /// Whether these settings are for a Redis Cluster (there are seed nodes).
  bool is_cluster() const noexcept { return !cluster_nodes.empty(); }

  std::chrono::milliseconds connect_timeout{5000};         ///< TCP/unix connect plus handshake
  std::chrono::milliseconds command_timeout{5000};         ///< default for each operation
  std::chrono::milliseconds health_check_interval{15000};  ///< PING after this much idle; 0: off
  std::chrono::milliseconds reconnect_min_delay{50};       ///< first backoff step
  std::chrono::milliseconds reconnect_max_delay{5000};     ///< backoff ceiling
  /// A request that timed out or was cancelled after it was written still owes its reply (a
  /// BLPOP keeps blocking on the server). Its connection takes no new requests meanwhile; if
  /// the reply has not come this long after the request was given up, the connection is
  /// closed and replaced, and what waits behind it goes out on the new one.
  std::chrono::milliseconds abandoned_reply_timeout{3000};
  /// disconnect() lets operations in flight finish for at most this long; then whatever is
  /// still on the wire fails with errc::shutting_down and the connections close.
  std::chrono::milliseconds disconnect_timeout{5000};

  /// What may wait to be written, across the pool (each connection takes an even share; a
  /// lease connection a share too): past either bound, new requests fail at once with
  /// errc::overloaded instead of queueing without limit while Redis is away.
  std::size_t max_queued_requests = 100000;
  std::size_t max_queued_bytes = 64u * 1024u * 1024u;  ///< the same bound in bytes
  /// On: while a connection is known to be down (its first reconnect attempt failed), requests
  /// for it fail at once with errc::not_connected instead of waiting for a reconnect (up to
  /// their timeout), and those already waiting fail too. The pool still prefers a connection
  /// that is up.
  bool fail_fast = false;

  /// A reply over either limit is a protocol_error and the connection is replaced. Built
  /// against hiredis 0.14 (Debian 12) the effective limits are at most 8 nested arrays and
  /// 1 GiB, whatever these say (its parser's own ceilings); with hiredis 1.x, 1,024 arrays.
  std::size_t max_reply_size = 512u * 1024u * 1024u;  ///< bytes one reply may take
  int max_nesting_depth = 64;                         ///< arrays within arrays

  /// Sees every command start and end (observer.hpp; CommandMetrics keeps histograms); null:
  /// off, at the cost of one pointer test per command. Not read from URLs or the environment.
  std::shared_ptr<CommandObserver> observer;
  /// Hears connection events (connected, lost, reconnect failed, ...); null: silent.
  std::shared_ptr<Logger> logger;

  /// These settings as the REDIS_URL the Python services read, password in clear:
  /// "redis://[:password@]host:port/db" ("user:password@" with a username), "rediss://" when
  /// tls, "unix://[:password@]/path?db=N" for a socket; db is `db` (default: cache_db; an
  /// explicit 0 stays 0); reserved characters in the user and password are percent-escaped.
  /// Over Sentinel (sentinel.enabled()) it is the form from_url() reads back:
  /// "redis-sentinel://[user][:password]@host:port,host:port.../db#master", every sentinel
  /// with its port (IPv6 in []), the master name percent-escaped where needed, the user and
  /// password the data nodes'; "rediss-sentinel://" when tls or sentinel.tls is on (both come
  /// back on). Lettuce and Spring read this form; redis-py does not. Left out, as the URL has no
  /// place for them: host, port and unix_socket (the sentinels replace them), sentinel.username,
  /// sentinel.password, sentinel.tls_options and sentinel.replicas.
  /// Over Redis Cluster (is_cluster(), and no sentinels) it is
  /// `redis://[user][:password@]host:port,host:port.../db[?read_from=...]`, every seed node with
  /// its port (IPv6 in []); a single node is written `redis://host:port/db?cluster=yes`;
  /// read_from only when it is not master; "rediss://" when tls. db is written as asked, and
  /// from_url() refuses a cluster URL whose db is not 0. Left out: host, port and unix_socket
  /// (the seed nodes replace them), cluster.refresh_interval and cluster.max_redirections.
  /// No form carries the rest: the other databases, max_connections, default_ttl, client_name,
  /// tls_options, the timeouts and delays, the queue and reply limits, fail_fast, observer,
  /// logger. Throws nothing; no validation.
  std::string url(std::optional<int> db = std::nullopt) const;
  /// url() with the password written as "***" (all else kept, sentinels and cluster nodes too): the
  /// form to log or print. url() itself stays the exact REDIS_URL the Python services read, because
  /// callers hand it to connections and other processes; a redacted url() would break them at AUTH.
  std::string redacted_url(std::optional<int> db = std::nullopt) const;

  /// Parses redis://, rediss:// and unix:// URLs: user, password, host (IPv6 literal in []),
  /// port, /db (sets cache_db) or ?db=N, percent-escapes; and
  /// `redis-sentinel://[[user]:password@]host[:port][,host[:port]...][/db][?query]#master`
  /// (rediss-sentinel:// for TLS; sentinel port 26379 when omitted; the master name
  /// percent-decoded); and Redis Cluster:
  /// `redis://[[user]:password@]host[:port],host[:port]...[/0][?query]` (several hosts: the seed
  /// nodes in order, port 6379 when omitted, IPv6 in [], host and port set to the first), or one
  /// host with `?cluster=yes` (true/1 too; no/false/0: not a cluster);
  /// `?read_from=master|replica_preferred|replica` sets cluster.read_from. Other fields keep their
  /// defaults. Throws Error(errc::invalid_setting) naming the URL part and the bad value; for a
  /// cluster URL also when it picks a database other than 0, is unix:// or redis-sentinel://, says
  /// cluster=no with several hosts, or has read_from without a cluster.
  static RedisSettings from_url(std::string_view url);

  /// Reads REDIS_URL first, then the single variables on top of it: REDIS_HOST, REDIS_PORT,
  /// REDIS_USERNAME, REDIS_PASSWORD, REDIS_CACHE_DB, REDIS_CELERY_BROKER_DB,
  /// REDIS_CELERY_RESULT_DB, REDIS_SESSION_DB, REDIS_MAX_CONNECTIONS, REDIS_DEFAULT_TTL
  /// (seconds), REDIS_CLIENT_NAME, REDIS_SOCKET, REDIS_TLS (true/false/1/0),
  /// REDIS_CONNECT_TIMEOUT_MS, REDIS_COMMAND_TIMEOUT_MS, REDIS_HEALTH_CHECK_INTERVAL_MS,
  /// REDIS_ABANDONED_REPLY_TIMEOUT_MS, REDIS_DISCONNECT_TIMEOUT_MS, REDIS_MAX_QUEUED_REQUESTS,
  /// REDIS_MAX_QUEUED_BYTES, REDIS_FAIL_FAST (true/false/1/0),
  /// REDIS_TLS_CA_FILE, REDIS_TLS_CA_PATH, REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE,
  /// REDIS_TLS_SERVER_NAME, REDIS_TLS_VERIFY; Sentinel's REDIS_SENTINELS, REDIS_SENTINEL_MASTER,
  /// REDIS_SENTINEL_USERNAME, REDIS_SENTINEL_PASSWORD, REDIS_SENTINEL_TLS,
  /// REDIS_SENTINEL_REPLICAS; Redis Cluster's REDIS_CLUSTER_NODES ("host:port,host:port", port
  /// 6379 when omitted; sets cluster_nodes, and host and port to the first),
  /// REDIS_CLUSTER_READ_FROM (master/replica_preferred/replica),
  /// REDIS_CLUSTER_REFRESH_INTERVAL_MS (0: on events only), REDIS_CLUSTER_MAX_REDIRECTIONS.
  /// Unset variables keep the defaults.
  /// Throws Error(errc::invalid_setting) naming the variable and its value.
  static RedisSettings from_env();

  /// Looks up one variable by name: its value, or nullopt when it is unset.
  using Getenv = std::function<std::optional<std::string>(std::string_view name)>;
  /// As from_env(), reading variables through `getenv` (for tests and embedding).
  static RedisSettings from_env(const Getenv& getenv);

  /// Checks every field's range (port 1-65535, db 0-..., max_connections >= 1, timeouts > 0,
  /// ...); over Redis Cluster each seed node's host and port, no sentinels, no unix_socket and
  /// cache_db 0; cluster.max_redirections >= 1 and cluster.refresh_interval >= 0.
  /// Throws Error(errc::invalid_setting) naming the field and the value.
  void validate() const;

  /// Equal when every field is.
  friend bool operator==(const RedisSettings&, const RedisSettings&) = default;
};

}  // namespace asyncredis
