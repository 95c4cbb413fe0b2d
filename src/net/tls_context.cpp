#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

#include "asyncredis/error.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis::detail {
namespace {

[[noreturn]] void fail(std::string_view field, const std::string& what) {
  throw Error(errc::invalid_setting,
              "RedisSettings.tls_options." + std::string(field) + ": " + what);
}

// OpenSSL's queued reasons, oldest first, without repeats; empties the queue.
std::string openssl_reasons() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    const char* reason = ERR_reason_error_string(e);
    const std::string text =
        reason != nullptr ? reason : "OpenSSL error " + std::to_string(ERR_GET_REASON(e));
    if (out.find(text) != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += text;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

// OpenSSL's own message for a missing file ("system lib", "BIO routines") names neither the
// file nor the cause; checking first gives "No such file or directory" with the path.
void check_file(std::string_view field, const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) fail(field, quoted_value(path) + ": " + ec.message());
  if (std::filesystem::is_directory(status)) {
    fail(field, quoted_value(path) + " is a directory, not a PEM file" +
                    (field == "ca_file" ? " (use ca_path for a directory of CAs)" : ""));
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) fail(field, quoted_value(path) + ": " + std::strerror(errno));
  std::fclose(file);
}

void check_directory(std::string_view field, const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec) fail(field, quoted_value(path) + ": " + ec.message());
  if (!std::filesystem::is_directory(status))
    fail(field, quoted_value(path) + " is not a directory");
}

// OpenSSL would otherwise prompt on the terminal for an encrypted key's passphrase, blocking
// the thread that builds the client: refusing makes the load fail with a message instead.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

// Where a session notes that the server asked for a client certificate while none is
// configured: OpenSSL offers no query for it afterwards. (Not SSL app data: Asio uses that.)
int certificate_request_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Called by OpenSSL when the server requests a certificate and the session has none.
int note_certificate_request(SSL* ssl, X509**, EVP_PKEY**) {
  static int marker;
  SSL_set_ex_data(ssl, certificate_request_index(), &marker);
  return 0;  // continue without a certificate: the server decides whether that is enough
}

std::string describe_trust(const TlsSettings& tls) {
  if (tls.ca_file.empty() && tls.ca_path.empty()) return "the system's default CA paths";
  std::string out;
  if (!tls.ca_file.empty()) out = "ca_file " + quoted_value(tls.ca_file);
  if (!tls.ca_path.empty())
    out += (out.empty() ? "" : " and ") + ("ca_path " + quoted_value(tls.ca_path));
  return out;
}

}  // namespace

TlsContext::TlsContext(const RedisSettings& settings)
    : context_(asio::ssl::context::tls_client),
      server_name_(settings.tls_options.server_name.empty() ? settings.host
                                                            : settings.tls_options.server_name),
      trusted_(describe_trust(settings.tls_options)),
      verify_peer_(settings.tls_options.verify_peer),
      client_cert_(settings.tls_options.cert_file) {
  const TlsSettings& tls = settings.tls_options;
  SSL_CTX* ctx = context_.native_handle();
  ERR_clear_error();  // the queue is per thread: nothing stale may end up in our messages

  if (tls.min_version != "1.2" && tls.min_version != "1.3") {
    fail("min_version", quoted_value(tls.min_version) + " is not \"1.2\" or \"1.3\"");
  }
  SSL_CTX_set_min_proto_version(ctx, tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Redis closes TLS connections without close_notify. RESP frames itself, so a truncated
  // stream can never pass for a complete reply: report that close as an ordinary EOF.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);

  if (!tls.ca_file.empty()) {
    check_file("ca_file", tls.ca_file);
    if (SSL_CTX_load_verify_locations(ctx, tls.ca_file.c_str(), nullptr) != 1) {
      fail("ca_file", "cannot load CA certificates from " + quoted_value(tls.ca_file) + ": " +
                          openssl_reasons());
    }
  }
  if (!tls.ca_path.empty()) {
    check_directory("ca_path", tls.ca_path);
    // Reads nothing yet: OpenSSL looks up <subject hash>.N files there while verifying.
    if (SSL_CTX_load_verify_locations(ctx, nullptr, tls.ca_path.c_str()) != 1) {
      fail("ca_path", "cannot use " + quoted_value(tls.ca_path) + ": " + openssl_reasons());
    }
  }
  if (tls.ca_file.empty() && tls.ca_path.empty() && verify_peer_ &&
      SSL_CTX_set_default_verify_paths(ctx) != 1) {
    fail("ca_file",
         "not set, and the system's default CA paths cannot be loaded: " + openssl_reasons());
  }

  if (!tls.key_file.empty() && tls.cert_file.empty()) {
    fail("key_file", quoted_value(tls.key_file) + " is set without cert_file");
  }
  if (!tls.cert_file.empty()) {
    check_file("cert_file", tls.cert_file);
    if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) != 1) {
      fail("cert_file", "cannot load a certificate from " + quoted_value(tls.cert_file) + ": " +
                            openssl_reasons());
    }
    const bool key_in_cert_file = tls.key_file.empty();
    const std::string& key = key_in_cert_file ? tls.cert_file : tls.key_file;
    const std::string_view key_field = key_in_cert_file ? "cert_file" : "key_file";
    check_file(key_field, key);
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      fail(key_field,
           "cannot use the private key in " + quoted_value(key) + " with the certificate in " +
               quoted_value(tls.cert_file) + ": " + openssl_reasons() +
               (key_in_cert_file ? " (key_file is not set: the key must be in cert_file)" : ""));
    }
  }

  if (tls.cert_file.empty()) SSL_CTX_set_client_cert_cb(ctx, note_certificate_request);
  context_.set_verify_mode(verify_peer_ ? asio::ssl::verify_peer : asio::ssl::verify_none);
}

void TlsContext::prepare(SSL* ssl) const {
  boost::system::error_code not_an_address;
  asio::ip::make_address(server_name_, not_an_address);
  const bool is_address = !not_an_address;
  ERR_clear_error();
  if (!is_address && SSL_set_tlsext_host_name(ssl, server_name_.c_str()) != 1) {
    throw Error(errc::tls_error, "cannot send " + quoted_value(server_name_) +
                                     " as the TLS server name (SNI): " + openssl_reasons());
  }
  if (!verify_peer_) return;
  if (is_address) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server_name_.c_str()) != 1) {
      throw Error(errc::tls_error, "cannot verify the certificate for the address " +
                                       quoted_value(server_name_) + ": " + openssl_reasons());
    }
    return;
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, server_name_.c_str()) != 1) {
    throw Error(errc::tls_error, "cannot verify the certificate for the name " +
                                     quoted_value(server_name_) + ": " + openssl_reasons());
  }
}

std::string TlsContext::describe_failure(SSL* ssl, const boost::system::error_code& ec) const {
  if (verify_peer_ && ssl != nullptr) {
    const long result = SSL_get_verify_result(ssl);
    if (result != X509_V_OK) {
      return std::string("the server's certificate did not verify: ") +
             X509_verify_cert_error_string(result) + " (checked for " + quoted_value(server_name_) +
             " against " + trusted_ + ")";
    }
  }
  std::string reason = ec.message();
  if (ec.category() != asio::error::get_ssl_category()) return reason;
  if (ssl != nullptr && SSL_get_ex_data(ssl, certificate_request_index()) != nullptr) {
    return reason +
           " (the server asked for a client certificate and none is configured: set "
           "tls_options.cert_file and key_file)";
  }
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
      if (!client_cert_.empty()) {
        reason += " (the server refused the client certificate in tls_options.cert_file " +
                  quoted_value(client_cert_) + ")";
      }
      break;
    default:
      break;
  }
  return reason;
}

bool TlsContext::is_tls_error(const boost::system::error_code& ec) noexcept {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == asio::ssl::error::get_stream_category();
}

std::shared_ptr<TlsContext> make_tls_context(const RedisSettings& settings) {
  if (!settings.tls) return nullptr;
  return std::make_shared<TlsContext>(settings);
}

}  // namespace asyncredis::detail
