// SentinelSettings: how to find the master (or the replicas) of a Redis Sentinel deployment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "asyncredis/tls_settings.hpp"

namespace asyncredis {

/// One sentinel's address.
struct SentinelAddress {
  std::string host;            ///< host name or IP address (IPv6 without brackets)
  std::uint16_t port = 26379;  ///< the sentinel's TCP port

  /// Equal when host and port are.
  friend bool operator==(const SentinelAddress&, const SentinelAddress&) = default;
};

/// Redis Sentinel: when `sentinels` is not empty, RedisSettings::host and port are ignored and
/// every connection asks the sentinels in turn where `master_name` is (SENTINEL
/// get-master-addr-by-name) before it connects, then checks with ROLE that the server is the
/// master before it sends anything. It moves on a lost connection, on a -READONLY reply and
/// on the sentinels' +switch-master message. With `replicas` on, it connects to the healthy
/// replicas of the service instead (SENTINEL replicas), spread over them.
/// RedisSettings::url() writes the sentinels, master_name and tls as a redis-sentinel:// URL;
/// username, password, tls_options and replicas have no place in it and are left out.
struct SentinelSettings {
  std::vector<SentinelAddress> sentinels;  ///< asked in turn; empty: no Sentinel
  std::string master_name;                 ///< the service's name, as the sentinels know it
  std::optional<std::string> username;     ///< the sentinels' ACL user; none: the default user
  std::optional<std::string> password;     ///< the sentinels' password; none: no AUTH
  bool tls = false;                        ///< talk to the sentinels over TLS (tls_options)
  TlsSettings tls_options;                 ///< used when tls is on
  /// Connect to the replicas instead of the master (read-only clients): each connection takes
  /// one healthy replica (one the sentinels do not see down), spread over them; the reads may
  /// lag behind the master (replication is asynchronous). A write fails with -READONLY.
  bool replicas = false;

  /// Whether Sentinel is in use (there are sentinels to ask).
  bool enabled() const noexcept { return !sentinels.empty(); }

  /// Equal when every field is.
  friend bool operator==(const SentinelSettings&, const SentinelSettings&) = default;
};

}  // namespace asyncredis
