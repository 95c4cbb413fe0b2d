// Building the TLS context from TlsSettings: what loads, and that every unusable file is an
// invalid_setting error naming the field and the file. No server needed.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <boost/asio/io_context.hpp>

#include "asyncredis/asyncredis.hpp"
#include "net/tls_context.hpp"
#include "support/tls_certs.hpp"

namespace asyncredis {
namespace {

namespace fs = std::filesystem;
using detail::TlsContext;

const test::TlsCerts& certs() {
  static const test::TlsCerts instance;
  return instance;
}

RedisSettings tls_settings() {
  RedisSettings settings;
  settings.host = "127.0.0.1";
  settings.tls = true;
  settings.tls_options.ca_file = certs().ca();
  return settings;
}

fs::path write_file(const std::string& name, const std::string& content) {
  const fs::path path = certs().dir() / name;
  std::ofstream(path) << content;
  return path;
}

// The message of the invalid_setting error building a context from `settings` throws.
std::string build_error(const RedisSettings& settings) {
  try {
    TlsContext context(settings);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting)) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "the context was built";
  return {};
}

void expect_has(const std::string& message, std::initializer_list<std::string> parts) {
  for (const auto& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
  }
}

TEST(TlsContext, BuildsFromGoodFiles) {
  RedisSettings settings = tls_settings();
  EXPECT_NO_THROW(TlsContext{settings});
  settings.tls_options.cert_file = certs().client().cert;
  settings.tls_options.key_file = certs().client().key;
  EXPECT_NO_THROW(TlsContext{settings});
  settings.tls_options.ca_file.clear();
  settings.tls_options.ca_path = certs().ca_dir();
  EXPECT_NO_THROW(TlsContext{settings});
  settings.tls_options.ca_path.clear();  // the system's CAs
  EXPECT_NO_THROW(TlsContext{settings});
  settings.tls_options.min_version = "1.3";
  EXPECT_NO_THROW(TlsContext{settings});
}

TEST(TlsContext, OnlyForTls) {
  RedisSettings settings = tls_settings();
  EXPECT_NE(detail::make_tls_context(settings), nullptr);
  settings.tls = false;
  EXPECT_EQ(detail::make_tls_context(settings), nullptr);
}

TEST(TlsContext, ServerNameIsTheHostUnlessSet) {
  RedisSettings settings = tls_settings();
  EXPECT_EQ(TlsContext(settings).server_name(), "127.0.0.1");
  settings.tls_options.server_name = "redis.internal";
  EXPECT_EQ(TlsContext(settings).server_name(), "redis.internal");
  EXPECT_TRUE(TlsContext(settings).verifies_peer());
  settings.tls_options.verify_peer = false;
  EXPECT_FALSE(TlsContext(settings).verifies_peer());
}

TEST(TlsContext, MissingFilesAreNamed) {
  const std::string missing = (certs().dir() / "nowhere.pem").native();
  RedisSettings settings = tls_settings();
  settings.tls_options.ca_file = missing;
  expect_has(build_error(settings),
             {"RedisSettings.tls_options.ca_file", missing, "No such file or directory"});

  settings = tls_settings();
  settings.tls_options.cert_file = missing;
  settings.tls_options.key_file = certs().client().key;
  expect_has(build_error(settings), {"tls_options.cert_file", missing, "No such file"});

  settings = tls_settings();
  settings.tls_options.cert_file = certs().client().cert;
  settings.tls_options.key_file = missing;
  expect_has(build_error(settings), {"tls_options.key_file", missing, "No such file"});

  settings = tls_settings();
  settings.tls_options.ca_path = missing;
  expect_has(build_error(settings), {"tls_options.ca_path", missing, "No such file"});
}

TEST(TlsContext, DirectoriesAndFilesAreNotInterchangeable) {
  RedisSettings settings = tls_settings();
  settings.tls_options.ca_file = certs().ca_dir();
  expect_has(build_error(settings),
             {"tls_options.ca_file", certs().ca_dir().native(), "is a directory", "ca_path"});
  settings = tls_settings();
  settings.tls_options.ca_path = certs().ca();
  expect_has(build_error(settings),
             {"tls_options.ca_path", certs().ca().native(), "is not a directory"});
}

TEST(TlsContext, FilesThatAreNotPem) {
  const fs::path junk = write_file("junk.pem", "this is not a certificate\n");
  RedisSettings settings = tls_settings();
  settings.tls_options.ca_file = junk;
  expect_has(build_error(settings),
             {"tls_options.ca_file", "cannot load CA certificates", junk.native()});

  settings = tls_settings();
  settings.tls_options.cert_file = junk;
  settings.tls_options.key_file = certs().client().key;
  expect_has(build_error(settings),
             {"tls_options.cert_file", "cannot load a certificate", junk.native()});

  settings = tls_settings();
  settings.tls_options.cert_file = certs().client().cert;
  settings.tls_options.key_file = junk;
  expect_has(build_error(settings), {"tls_options.key_file", "private key", junk.native()});
}

TEST(TlsContext, KeyMustBelongToTheCertificate) {
  RedisSettings settings = tls_settings();
  settings.tls_options.cert_file = certs().client().cert;
  settings.tls_options.key_file = certs().server().key;
  expect_has(build_error(settings), {"tls_options.key_file", certs().server().key.native(),
                                     certs().client().cert.native(), "key values mismatch"});
}

TEST(TlsContext, KeyMayBeInTheCertificateFile) {
  std::ifstream cert(certs().client().cert), key(certs().client().key);
  std::string both((std::istreambuf_iterator<char>(cert)), {});
  both.append(std::istreambuf_iterator<char>(key), {});
  RedisSettings settings = tls_settings();
  settings.tls_options.cert_file = write_file("client_and_key.pem", both);
  EXPECT_NO_THROW(TlsContext{settings});

  settings.tls_options.cert_file = certs().client().cert;  // no key in it
  expect_has(build_error(settings),
             {"tls_options.cert_file", "key_file is not set", certs().client().cert.native()});
}

TEST(TlsContext, KeyWithoutCertificate) {
  RedisSettings settings = tls_settings();
  settings.tls_options.key_file = certs().client().key;
  expect_has(build_error(settings), {"tls_options.key_file", "without cert_file"});
}

TEST(TlsContext, MinimumVersionIsChecked) {
  RedisSettings settings = tls_settings();
  settings.tls_options.min_version = "1.1";
  expect_has(build_error(settings), {"tls_options.min_version", "'1.1'"});
}

TEST(TlsContext, RedisClientRefusesBadFilesAtConstruction) {
  boost::asio::io_context io;
  RedisSettings settings = tls_settings();
  settings.tls_options.ca_file = "/nonexistent/ca.pem";
  try {
    RedisClient client(io.get_executor(), settings);
    ADD_FAILURE() << "constructed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting));
    expect_has(e.message(), {"tls_options.ca_file", "/nonexistent/ca.pem"});
  }
  settings.tls = false;  // the TLS options are not looked at without TLS
  EXPECT_NO_THROW(RedisClient(io.get_executor(), settings));
}

}  // namespace
}  // namespace asyncredis
