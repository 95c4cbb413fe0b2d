// RedisClient over Sentinel over TLS: data nodes on TLS only, sentinels reached on their TLS
// ports and naming TLS ports only (the replicas replicate and the sentinels monitor over TLS
// too), certificates made at run time (support/tls_certs). A rediss-sentinel:// URL finds the
// master, writes and reads; a replica client reads; a CA that did not sign the sentinels'
// certificate, and plain text towards them, fail naming every sentinel; a SENTINEL FAILOVER is
// followed over TLS. One cluster for the suite; the failover runs last (declaration order).
#include <gtest/gtest.h>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/sentinel_cluster.hpp"
#include "support/sentinel_load.hpp"
#include "support/tls_certs.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::connect_error;
using test::first_word;
using test::run_async;
using test::SentinelCluster;
namespace asio = boost::asio;
using asio::use_awaitable;

class SentinelTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new test::TlsCerts();
    test::SentinelClusterOptions options;
    options.tls = certs_;
    cluster_ = new SentinelCluster(options);
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    delete certs_;
    certs_ = nullptr;
  }

  // Every sentinel's address, as an error message names it.
  static std::vector<std::string> sentinel_names() {
    std::vector<std::string> names;
    for (std::size_t i = 0; i < SentinelCluster::kSentinels; ++i) {
      names.push_back("127.0.0.1:" + std::to_string(cluster_->sentinel_port(i)));
    }
    return names;
  }

  // The value of CONFIG GET `name` on the node `client` reaches.
  static asio::awaitable<std::string> config(RedisClient& client, const std::string& name) {
    const Reply reply = co_await client.command<Reply>("CONFIG", "GET", name, use_awaitable);
    co_return reply.elements().at(1).str();
  }

  static inline test::TlsCerts* certs_ = nullptr;
  static inline SentinelCluster* cluster_ = nullptr;
};

TEST_F(SentinelTls, ARedissSentinelUrlFindsTheMasterWritesAndReads) {
  std::string url = "rediss-sentinel://";
  for (std::size_t i = 0; i < SentinelCluster::kSentinels; ++i) {
    url += (i == 0 ? "" : ",") + std::string("127.0.0.1:") +
           std::to_string(cluster_->sentinel_port(i));
  }
  url += "#mymaster";
  RedisSettings settings = RedisSettings::from_url(url);
  EXPECT_TRUE(settings.tls);
  EXPECT_TRUE(settings.sentinel.tls);
  // The URL cannot name a CA: the test's one, for the sentinels and the data nodes.
  settings.tls_options.ca_file = certs_->ca().native();
  settings.sentinel.tls_options.ca_file = certs_->ca().native();
  settings.connect_timeout = 2s;
  const std::string master_tls_port = std::to_string(cluster_->master_port());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("tls:discovery", "found", {}, use_awaitable);
    const auto value = co_await client.get("tls:discovery", use_awaitable);
    EXPECT_EQ(value, "found");
    const Reply role = co_await client.command<Reply>("ROLE", use_awaitable);
    EXPECT_EQ(first_word(role), "master");
    // The node reached is the master the sentinels named, on its TLS port.
    const std::string tls_port = "tls-port";
    const std::string reached = co_await config(client, tls_port);
    EXPECT_EQ(reached, master_tls_port);
    const std::string port = "port";
    const std::string plain = co_await config(client, port);
    EXPECT_EQ(plain, "0") << "the data node still listens in plain text";
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SentinelTls, AReplicaClientReadsOverTls) {
  RedisSettings replica_settings = cluster_->settings();
  replica_settings.sentinel.replicas = true;
  replica_settings.max_connections = 2;
  cluster_->set_replicated("tls:replicated", "yes");
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient replicas(io.get_executor(), replica_settings);
    co_await replicas.connect(use_awaitable);
    const auto read = co_await replicas.get("tls:replicated", use_awaitable);
    EXPECT_EQ(read, "yes");
    const Reply role = co_await replicas.command<Reply>("ROLE", use_awaitable);
    EXPECT_EQ(first_word(role), "slave");
    co_await replicas.disconnect(use_awaitable);
  });
}

TEST_F(SentinelTls, AnUntrustedSentinelCertificateFailsNamingEachSentinel) {
  RedisSettings settings = cluster_->settings();
  settings.sentinel.tls_options.ca_file = certs_->other_ca().native();
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::not_connected)) << message;
  EXPECT_NE(message.find("mymaster"), std::string::npos) << message;
  EXPECT_NE(message.find("TLS handshake failed"), std::string::npos) << message;
  for (const auto& name : sentinel_names()) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
}

TEST_F(SentinelTls, PlainTextTowardsTlsSentinelsFailsNamingEachSentinel) {
  RedisSettings settings = cluster_->settings();
  settings.sentinel.tls = false;
  const auto [code, message] = connect_error(settings);
  EXPECT_EQ(code, make_error_code(errc::not_connected)) << message;
  EXPECT_NE(message.find("mymaster"), std::string::npos) << message;
  for (const auto& name : sentinel_names()) {
    EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  // The sentinels drop us without a word; the message says what that may mean.
  EXPECT_NE(message.find("sentinel.tls"), std::string::npos) << message;
}

TEST_F(SentinelTls, FollowsAFailoverOverTls) {
  RedisSettings settings = cluster_->settings();
  settings.max_connections = 2;
  run_async(
      [&](asio::io_context& io) -> asio::awaitable<void> {
        RedisClient client(io.get_executor(), settings);
        co_await client.connect(use_awaitable);
        test::Load writers(4);
        writers.start_writers(io, client, "tls:counter:");
        const bool started = co_await writers.started();
        if (!started) co_return;
        const std::string what = "SENTINEL FAILOVER over TLS";  // named: no temporary in a co_await
        co_await test::follow_failover(*cluster_, client, writers, what, settings.command_timeout);
        co_await client.disconnect(use_awaitable);
      },
      60s);
}

}  // namespace
}  // namespace asyncredis
