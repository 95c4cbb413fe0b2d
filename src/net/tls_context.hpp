// The OpenSSL side of TLS connections: one asio::ssl::context per client, made from its
// TlsSettings once (certificates and keys are read at construction, not on every connect) and
// shared by all of the client's connections; and what each new session needs from it (SNI,
// the name to verify, a readable reason when the handshake fails).
//
// Only src/net/ includes this header: Asio SSL and OpenSSL stay out of the public headers and
// out of the headers most of the library includes.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

namespace asio = boost::asio;

class TlsContext {
 public:
  // Builds the context: minimum protocol version, the trusted CAs (ca_file and/or ca_path;
  // the system's default paths when neither is set and verification is on), the client
  // certificate and key for mutual TLS (key_file empty: the key is in cert_file), peer
  // verification. Throws Error(errc::invalid_setting) naming the field and the file, and
  // why it is unusable: missing, unreadable, a directory, not PEM, or a key that does not
  // belong to the certificate. Encrypted private keys are refused (nothing could ask for
  // the passphrase).
  explicit TlsContext(const RedisSettings& settings);
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  asio::ssl::context& native() noexcept { return context_; }

  // The name sent as SNI and checked against the server's certificate: tls_options.server_name,
  // else the host.
  const std::string& server_name() const noexcept { return server_name_; }
  bool verifies_peer() const noexcept { return verify_peer_; }

  // Sets up one new session (an SSL object of this context): SNI unless the name is an IP
  // address (RFC 6066 forbids literals there), and, when verifying, the DNS name or the IP
  // address the certificate must carry. Throws Error(errc::tls_error) if OpenSSL refuses.
  void prepare(SSL* ssl) const;

  // Why a TLS operation on `ssl` failed with `ec`: with verification on and a verify result
  // other than X509_V_OK, X509_verify_cert_error_string's text ("certificate has expired",
  // "unable to get local issuer certificate", "hostname mismatch", ...) with the name checked
  // and the CAs trusted; otherwise the OpenSSL reason of `ec` (the server's alert), with a hint
  // when the server asked for a client certificate and none is configured, or refused ours.
  std::string describe_failure(SSL* ssl, const boost::system::error_code& ec) const;

  // True for errors of the TLS layer (OpenSSL's, or Asio's SSL stream errors), as opposed to
  // socket errors.
  static bool is_tls_error(const boost::system::error_code& ec) noexcept;

 private:
  asio::ssl::context context_;
  std::string server_name_;
  std::string trusted_;  // the CAs, for messages: "ca_file '/x'" or "the system's CA paths"
  bool verify_peer_;
  std::string client_cert_;  // tls_options.cert_file, for messages
};

// A context for settings with tls on; null otherwise. Throws as TlsContext's constructor.
std::shared_ptr<TlsContext> make_tls_context(const RedisSettings& settings);

}  // namespace asyncredis::detail
