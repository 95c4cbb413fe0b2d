#include "support/tls_certs.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <vector>

namespace asyncredis::test {
namespace {

namespace fs = std::filesystem;

constexpr long kHour = 3600;
constexpr long kDay = 24 * kHour;

[[noreturn]] void fail(const std::string& what) {
  char reason[256] = "no OpenSSL error queued";
  if (const unsigned long e = ERR_get_error()) ERR_error_string_n(e, reason, sizeof reason);
  ERR_clear_error();
  throw std::runtime_error("TlsCerts: " + what + ": " + reason);
}

struct KeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct CertDeleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;
using Cert = std::unique_ptr<X509, CertDeleter>;

struct Issued {
  Key key;
  Cert cert;
};

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) fail("EC key generation");
  return key;
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (extension == nullptr) fail(std::string("extension ") + OBJ_nid2sn(nid) + "=" + value);
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  if (added != 1) fail("X509_add_ext");
}

struct Spec {
  std::string common_name;
  long not_before = -kHour;  // seconds from now; an hour back tolerates clock skew
  long not_after = kDay;
  bool is_ca = false;
  std::string extended_usage;  // "serverAuth", "clientAuth"
  std::string alt_names;       // "DNS:localhost,IP:127.0.0.1"
};

// Makes a key and a certificate for `spec`, signed by `issuer` (self-signed without one).
Issued issue(const Spec& spec, const Issued* issuer) {
  static long serial = 1;
  Issued out{make_key(), Cert(X509_new())};
  X509* cert = out.cert.get();
  if (cert == nullptr) fail("X509_new");
  X509_set_version(cert, 2);  // v3: extensions
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), spec.not_before);
  X509_gmtime_adj(X509_getm_notAfter(cert), spec.not_after);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("asyncredis tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(spec.common_name.c_str()), -1,
                             -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  if (X509_set_pubkey(cert, out.key.get()) != 1) fail("X509_set_pubkey");

  add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) {
    add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
  }
  if (spec.is_ca) {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, issuer_cert, NID_ext_key_usage, spec.extended_usage.c_str());
  }
  if (!spec.alt_names.empty()) {
    add_extension(cert, issuer_cert, NID_subject_alt_name, spec.alt_names.c_str());
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) fail("X509_sign " + spec.common_name);
  return out;
}

// fopen for writing, closed at scope exit.
struct File {
  explicit File(const fs::path& path) : handle(std::fopen(path.c_str(), "wb")) {
    if (handle == nullptr) {
      throw std::system_error(errno, std::generic_category(), "TlsCerts: open " + path.native());
    }
  }
  ~File() { std::fclose(handle); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  std::FILE* handle;
};

void write_cert(const fs::path& path, X509* cert) {
  File file(path);
  if (PEM_write_X509(file.handle, cert) != 1) fail("writing " + path.native());
}

void write_key(const fs::path& path, EVP_PKEY* key) {
  File file(path);
  if (PEM_write_PrivateKey(file.handle, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    fail("writing " + path.native());
  }
}

CertFiles write_pair(const fs::path& dir, const std::string& name, const Issued& issued) {
  CertFiles files{dir / (name + ".pem"), dir / (name + ".key")};
  write_cert(files.cert, issued.cert.get());
  write_key(files.key, issued.key.get());
  return files;
}

}  // namespace

TlsCerts::TlsCerts() {
  std::string pattern = (fs::temp_directory_path() / "asyncredis-tls-XXXXXX").native();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "TlsCerts: mkdtemp " + pattern);
  }
  dir_ = pattern;
  try {
    const std::string server_names = "DNS:localhost,IP:127.0.0.1";
    const Issued ca = issue({.common_name = "asyncredis test CA", .is_ca = true}, nullptr);
    const Issued other_ca =
        issue({.common_name = "asyncredis unrelated CA", .is_ca = true}, nullptr);
    ca_ = dir_ / "ca.pem";
    write_cert(ca_, ca.cert.get());
    other_ca_ = dir_ / "other_ca.pem";
    write_cert(other_ca_, other_ca.cert.get());

    // OpenSSL finds CAs in a directory by subject hash, as c_rehash would name them.
    ca_dir_ = dir_ / "ca_dir";
    fs::create_directory(ca_dir_);
    char hashed[32];
    std::snprintf(hashed, sizeof hashed, "%08lx.0", X509_subject_name_hash(ca.cert.get()));
    write_cert(ca_dir_ / hashed, ca.cert.get());

    server_ = write_pair(
        dir_, "server",
        issue(
            {.common_name = "localhost", .extended_usage = "serverAuth", .alt_names = server_names},
            &ca));
    wrong_host_ = write_pair(dir_, "wrong_host",
                             issue({.common_name = "wrong.example.com",
                                    .extended_usage = "serverAuth",
                                    .alt_names = "DNS:wrong.example.com"},
                                   &ca));
    expired_ = write_pair(dir_, "expired",
                          issue({.common_name = "localhost",
                                 .not_before = -2 * kDay,
                                 .not_after = -kDay,
                                 .extended_usage = "serverAuth",
                                 .alt_names = server_names},
                                &ca));
    client_ = write_pair(
        dir_, "client",
        issue({.common_name = "asyncredis-client", .extended_usage = "clientAuth"}, &ca));
    other_client_ = write_pair(
        dir_, "other_client",
        issue({.common_name = "asyncredis-stranger", .extended_usage = "clientAuth"}, &other_ca));
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
    throw;
  }
}

TlsCerts::~TlsCerts() {
  if (std::getenv("ASYNCREDIS_KEEP_SERVER_DIRS") != nullptr) return;
  std::error_code ignored;
  fs::remove_all(dir_, ignored);
}

}  // namespace asyncredis::test
