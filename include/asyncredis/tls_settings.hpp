// TlsSettings: the TLS options of a connection, to Redis or to a sentinel.
#pragma once

#include <string>

namespace asyncredis {

/// TLS options; used when RedisSettings::tls is true (rediss:// URLs). RedisClient's
/// constructor loads them: a file it cannot use is Error(errc::invalid_setting) naming it.
struct TlsSettings {
  std::string ca_file;              ///< PEM bundle of trusted CAs; empty: the system's defaults
  std::string ca_path;              ///< directory of hashed CA certificates
  std::string cert_file;            ///< client certificate (PEM) for mutual TLS
  std::string key_file;             ///< client private key (PEM) for mutual TLS
  std::string server_name;          ///< SNI and name to verify; empty: the host
  bool verify_peer = true;          ///< verify the certificate chain and host name
  std::string min_version = "1.2";  ///< oldest TLS version accepted: "1.2" or "1.3"

  /// Equal when every field is.
  friend bool operator==(const TlsSettings&, const TlsSettings&) = default;
};

}  // namespace asyncredis
