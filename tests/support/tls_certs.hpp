// TlsCerts: the certificates TLS tests need, made at run time with OpenSSL (EC P-256 keys,
// SHA-256 signatures) into a fresh temporary directory, so nothing expires in the repository
// and no test depends on the openssl command line.
#pragma once

#include <filesystem>
#include <string>

namespace asyncredis::test {

// A PEM certificate and its PEM private key (unencrypted).
struct CertFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

class TlsCerts {
 public:
  // Makes every file below; throws std::runtime_error with OpenSSL's reason if it cannot.
  TlsCerts();
  TlsCerts(const TlsCerts&) = delete;
  TlsCerts& operator=(const TlsCerts&) = delete;
  // Removes the directory (kept when ASYNCREDIS_KEEP_SERVER_DIRS is set, like the servers').
  ~TlsCerts();

  const std::filesystem::path& dir() const { return dir_; }

  // The CA that signed server, wrong_host, expired and client.
  const std::filesystem::path& ca() const { return ca_; }
  // A directory holding the CA under its subject hash (<hash>.0), for tls_options.ca_path.
  const std::filesystem::path& ca_dir() const { return ca_dir_; }
  // A second CA that signed nothing the server presents: trusting only it must fail.
  const std::filesystem::path& other_ca() const { return other_ca_; }

  // serverAuth, SAN DNS:localhost and IP:127.0.0.1, valid from an hour ago for a day.
  const CertFiles& server() const { return server_; }
  // As server, but for DNS:wrong.example.com only.
  const CertFiles& wrong_host() const { return wrong_host_; }
  // As server, but valid from two days ago until yesterday.
  const CertFiles& expired() const { return expired_; }
  // clientAuth, CN asyncredis-client, signed by ca().
  const CertFiles& client() const { return client_; }
  // clientAuth, signed by other_ca(): a server trusting only ca() refuses it.
  const CertFiles& other_client() const { return other_client_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path ca_;
  std::filesystem::path ca_dir_;
  std::filesystem::path other_ca_;
  CertFiles server_;
  CertFiles wrong_host_;
  CertFiles expired_;
  CertFiles client_;
  CertFiles other_client_;
};

}  // namespace asyncredis::test
