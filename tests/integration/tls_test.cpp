// TLS against real redis-server processes listening on a TLS port with certificates made at
// run time (support/tls_certs): verified connections through the whole client (pipelines,
// auto-pipelining, the pool, leases, reconnects), every way verification must fail, mutual
// TLS, the minimum version, and TLS failures told apart from other connect failures.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/tls_certs.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::eventually;
using test::run_async;
using test::use_awaitable;
using test::wait_until;
namespace asio = boost::asio;

const test::TlsCerts& certs() {
  static const test::TlsCerts instance;
  return instance;
}

// redis-server with a TLS port. The launcher checks readiness over its plain port, so the
// server keeps one; the tests connect to the TLS port only.
struct TlsServer {
  std::uint16_t tls_port = 0;
  std::unique_ptr<test::RedisServer> server;

  // Settings that verify this server against the test CA, by its address.
  RedisSettings settings() const {
    RedisSettings settings = server->settings();
    settings.port = tls_port;
    settings.tls = true;
    settings.tls_options.ca_file = certs().ca();
    settings.reconnect_min_delay = 20ms;
    settings.reconnect_max_delay = 100ms;
    return settings;
  }
};

TlsServer start_tls_server(const test::CertFiles& cert, std::vector<std::string> args = {}) {
  for (int attempt = 0;; ++attempt) {
    TlsServer s;
    s.tls_port = test::free_port();
    std::vector<std::string> all = {"--tls-port",         std::to_string(s.tls_port),
                                    "--tls-cert-file",    cert.cert.native(),
                                    "--tls-key-file",     cert.key.native(),
                                    "--tls-ca-cert-file", certs().ca().native(),
                                    "--tls-auth-clients", "no"};
    all.insert(all.end(), args.begin(), args.end());  // later options win
    try {
      s.server = std::make_unique<test::RedisServer>(test::RedisServerOptions{.extra_args = all});
      return s;
    } catch (const std::runtime_error&) {
      if (attempt == 2) throw;  // the TLS port was taken meanwhile: pick another
    }
  }
}

struct Failure {
  errc code{};
  std::string message;
};

// Connects a client with `settings` and returns how it failed (code {} if it connected).
asio::awaitable<Failure> connect_failure(asio::io_context& io, const RedisSettings& settings) {
  RedisClient client(io.get_executor(), settings);
  try {
    co_await client.connect(use_awaitable);
    co_await client.ping(use_awaitable);
  } catch (const Error& e) {
    EXPECT_EQ(&e.code().category(), &category()) << e.message();
    co_return Failure{static_cast<errc>(e.code().value()), e.message()};
  }
  co_return Failure{};
}

void expect_tls_error(const Failure& failure, std::string_view reason) {
  EXPECT_EQ(failure.code, errc::tls_error) << failure.message;
  EXPECT_NE(failure.message.find(reason), std::string::npos) << failure.message;
  EXPECT_NE(failure.message.find("TLS handshake failed"), std::string::npos) << failure.message;
}

TEST(Tls, VerifiedConnectionCarriesCommandsPipelinesAndLargeValues) {
  const TlsServer tls = start_tls_server(certs().server());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), tls.settings());
    co_await client.connect(use_awaitable);
    EXPECT_TRUE(co_await client.set("greeting", "over tls", use_awaitable));
    EXPECT_EQ(co_await client.get("greeting", use_awaitable), "over tls");
    EXPECT_EQ(tls.server->cli({"GET", "greeting"}), "over tls");  // the same server, in clear

    Pipeline pipeline;
    for (int i = 0; i < 100; ++i) pipeline.add("INCR", "counter");
    const std::vector<Reply> replies = co_await client.execute(pipeline, use_awaitable);
    CO_ASSERT_EQ(replies.size(), 100u);
    EXPECT_EQ(replies.back().as<std::int64_t>(), 100);

    // Several TLS records each way, read and written in pieces.
    const std::string big(3 * 1024 * 1024 + 17, 'x');
    co_await client.set("big", big, use_awaitable);
    EXPECT_EQ(co_await client.get("big", use_awaitable), big);

    // Auto-pipelining: concurrent callers share writes; each gets its own reply.
    int done = 0, wrong = 0;
    for (int i = 0; i < 2000; ++i) {
      client.command<std::string>("ECHO", std::to_string(i),
                                  [&, i](std::exception_ptr e, std::string echoed) {
                                    if (e || echoed != std::to_string(i)) ++wrong;
                                    ++done;
                                  });
    }
    CO_ASSERT_TRUE(co_await eventually([&] { return done == 2000; }))
    EXPECT_EQ(wrong, 0);
    co_await client.disconnect(use_awaitable);
  });
}

TEST(Tls, HostNameSniAndCaDirectory) {
  const TlsServer tls = start_tls_server(certs().server());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings by_name = tls.settings();
    by_name.host = "localhost";  // verified against DNS:localhost
    const Failure by_name_result = co_await connect_failure(io, by_name);
    EXPECT_EQ(by_name_result.code, errc{}) << by_name_result.message;
    RedisSettings ca_path = tls.settings();
    ca_path.tls_options.ca_file.clear();
    ca_path.tls_options.ca_path = certs().ca_dir();
    const Failure ca_path_result = co_await connect_failure(io, ca_path);
    EXPECT_EQ(ca_path_result.code, errc{}) << ca_path_result.message;
  });
}

TEST(Tls, PoolLeasesAndThreads) {
  const TlsServer tls = start_tls_server(certs().server());
  asio::io_context io(2);
  auto guard = asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 2; ++i) runners.emplace_back([&] { io.run(); });

  RedisSettings settings = tls.settings();
  settings.max_connections = 4;
  RedisClient client(io.get_executor(), settings);
  client.connect(asio::use_future).get();
  // One TLS context, four sessions, used from two threads.
  std::atomic<int> done = 0, failed = 0;
  std::promise<void> all_done;
  constexpr int total = 4000;
  for (int i = 0; i < total; ++i) {
    client.incr("counter", [&](std::exception_ptr e, std::int64_t) {
      if (e) ++failed;
      if (++done == total) all_done.set_value();
    });
  }
  ASSERT_EQ(all_done.get_future().wait_for(30s), std::future_status::ready);
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(client.get("counter", asio::use_future).get(), std::to_string(total));
  EXPECT_TRUE(wait_until([&] { return client.stats().connected == 4; }));

  Lease lease = client.lease(asio::use_future).get();  // a connection of its own, over TLS
  lease.command<std::string>("WATCH", "counter", asio::use_future).get();
  Pipeline p;
  p.add("INCR", "counter");
  const auto committed = lease.transaction(p, asio::use_future).get();
  ASSERT_TRUE(committed.has_value());
  EXPECT_EQ(committed->at(0).as<std::int64_t>(), total + 1);
  lease.release();

  client.disconnect(asio::use_future).get();
  guard.reset();
  for (auto& r : runners) r.join();
}

TEST(Tls, ReconnectsWithANewSessionAfterARestart) {
  const TlsServer tls = start_tls_server(certs().server());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisClient client(io.get_executor(), tls.settings());
    co_await client.connect(use_awaitable);
    co_await client.set("k", "before", use_awaitable);
    for (int round = 1; round <= 2; ++round) {
      tls.server->stop();
      // Every connection seen dead: the SET below waits for a reconnect instead of going out
      // on a dead one.
      CO_ASSERT_TRUE(co_await eventually([&] { return client.stats().connected == 0; }))
      tls.server->start();  // same ports, a fresh process: no session could be resumed
      co_await client.set("k", "after", use_awaitable);
      EXPECT_EQ(co_await client.get("k", use_awaitable), "after");
      EXPECT_GE(client.stats().reconnects, static_cast<std::size_t>(round));
    }
  });
}

TEST(Tls, UntrustedCaIsRejectedWithTheReason) {
  const TlsServer with_chain = start_tls_server(certs().server());
  // Its own CA file (for client certificates) does not hold the issuer: it sends only its leaf.
  const TlsServer leaf_only =
      start_tls_server(certs().server(), {"--tls-ca-cert-file", certs().other_ca().native()});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings other_ca = leaf_only.settings();
    other_ca.tls_options.ca_file = certs().other_ca();
    const Failure failure = co_await connect_failure(io, other_ca);
    expect_tls_error(failure, "unable to get local issuer certificate");
    EXPECT_NE(failure.message.find(certs().other_ca().native()), std::string::npos)
        << "names what was trusted: " << failure.message;
    EXPECT_NE(failure.message.find(std::to_string(leaf_only.tls_port)), std::string::npos);

    // A server sending its whole chain: the root it sends is not one we trust.
    other_ca.port = with_chain.tls_port;
    const Failure chain_failure = co_await connect_failure(io, other_ca);
    expect_tls_error(chain_failure, "self-signed certificate in certificate chain");

    // No CA configured: the system's CAs, which do not know the test CA. Still verified.
    RedisSettings system = with_chain.settings();
    system.tls_options.ca_file.clear();
    const Failure system_result = co_await connect_failure(io, system);
    expect_tls_error(system_result, "the system's default CA paths");
  });
}

TEST(Tls, WrongHostNameIsRejected) {
  const TlsServer wrong = start_tls_server(certs().wrong_host());
  const TlsServer right = start_tls_server(certs().server());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings by_name = wrong.settings();
    by_name.host = "localhost";
    const Failure name_failure = co_await connect_failure(io, by_name);
    expect_tls_error(name_failure, "hostname mismatch");
    const RedisSettings by_address = wrong.settings();
    const Failure address_failure = co_await connect_failure(io, by_address);
    expect_tls_error(address_failure, "IP address mismatch");

    // server_name replaces the host for SNI and verification, both ways.
    RedisSettings named = wrong.settings();
    named.tls_options.server_name = "wrong.example.com";
    const Failure named_result = co_await connect_failure(io, named);
    EXPECT_EQ(named_result.code, errc{}) << named_result.message;
    RedisSettings misnamed = right.settings();
    misnamed.tls_options.server_name = "redis.example.com";
    const Failure failure = co_await connect_failure(io, misnamed);
    expect_tls_error(failure, "hostname mismatch");
    EXPECT_NE(failure.message.find("redis.example.com"), std::string::npos) << failure.message;
  });
}

TEST(Tls, ExpiredCertificateIsRejected) {
  const TlsServer tls = start_tls_server(certs().expired());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    const RedisSettings settings = tls.settings();
    const Failure failure = co_await connect_failure(io, settings);
    expect_tls_error(failure, "certificate has expired");
  });
}

TEST(Tls, VerificationOffIsExplicitAndConnects) {
  const TlsServer expired = start_tls_server(certs().expired());
  const TlsServer wrong = start_tls_server(certs().wrong_host());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    for (const TlsServer* server : {&expired, &wrong}) {
      RedisSettings settings = server->settings();
      settings.tls_options.ca_file = certs().other_ca();
      const Failure untrusted = co_await connect_failure(io, settings);
      EXPECT_EQ(untrusted.code, errc::tls_error) << untrusted.message;
      settings.tls_options.verify_peer = false;
      RedisClient client(io.get_executor(), settings);
      co_await client.connect(use_awaitable);
      EXPECT_EQ(co_await client.ping(use_awaitable), "PONG");
    }
  });
}

TEST(Tls, MutualTlsRequiredAndSatisfied) {
  const TlsServer tls13 = start_tls_server(certs().server(), {"--tls-auth-clients", "yes"});
  const TlsServer tls12 = start_tls_server(
      certs().server(), {"--tls-auth-clients", "yes", "--tls-protocols", "TLSv1.2"});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    for (const TlsServer* server : {&tls13, &tls12}) {
      const RedisSettings anonymous = server->settings();
      const Failure failure = co_await connect_failure(io, anonymous);
      expect_tls_error(failure, "the server asked for a client certificate and none is configured");

      RedisSettings stranger = server->settings();  // a certificate the server does not trust
      stranger.tls_options.cert_file = certs().other_client().cert;
      stranger.tls_options.key_file = certs().other_client().key;
      const Failure refused = co_await connect_failure(io, stranger);
      expect_tls_error(refused, "refused the client certificate");

      RedisSettings known = server->settings();
      known.tls_options.cert_file = certs().client().cert;
      known.tls_options.key_file = certs().client().key;
      RedisClient client(io.get_executor(), known);
      co_await client.connect(use_awaitable);
      EXPECT_TRUE(co_await client.set("who", "client", use_awaitable));
      EXPECT_EQ(co_await client.get("who", use_awaitable), "client");
    }
  });
}

TEST(Tls, MinimumVersion) {
  const TlsServer modern = start_tls_server(certs().server());
  const TlsServer only12 = start_tls_server(certs().server(), {"--tls-protocols", "TLSv1.2"});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings v13 = modern.settings();
    v13.tls_options.min_version = "1.3";
    const Failure v13_result = co_await connect_failure(io, v13);
    EXPECT_EQ(v13_result.code, errc{}) << v13_result.message;
    // Proves the minimum is applied: the same client cannot talk to a TLS 1.2 server...
    v13.port = only12.tls_port;
    const Failure failure = co_await connect_failure(io, v13);
    EXPECT_EQ(failure.code, errc::tls_error) << failure.message;
    EXPECT_NE(failure.message.find("protocol version"), std::string::npos) << failure.message;
    // ...which the default minimum, 1.2, accepts.
    const RedisSettings v12 = only12.settings();
    const Failure accepted = co_await connect_failure(io, v12);
    EXPECT_EQ(accepted.code, errc{}) << accepted.message;
  });
}

TEST(Tls, FailuresAreToldApartFromOtherConnectErrors) {
  const TlsServer tls = start_tls_server(certs().server());
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    RedisSettings settings = tls.settings();
    settings.connect_timeout = 300ms;

    RedisSettings closed = settings;  // nothing listens: a socket error, not TLS
    closed.port = test::free_port();
    const Failure closed_result = co_await connect_failure(io, closed);
    EXPECT_EQ(closed_result.code, errc::not_connected) << closed_result.message;

    // Accepts and never answers the ClientHello: the connect timeout, not a TLS error.
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket silent_peer(io);
    silent.async_accept(silent_peer, [](boost::system::error_code) {});
    RedisSettings stalled = settings;
    stalled.port = silent.local_endpoint().port();
    const Failure stalled_result = co_await connect_failure(io, stalled);
    EXPECT_EQ(stalled_result.code, errc::timeout) << stalled_result.message;

    // A plain-text server: its first bytes are not a TLS record.
    asio::ip::tcp::acceptor plain(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket plain_peer(io);
    plain.async_accept(plain_peer, [&](boost::system::error_code ec) {
      static const std::string banner = "-ERR this is not TLS\r\n";
      if (!ec) asio::async_write(plain_peer, asio::buffer(banner), [](auto, auto) {});
    });
    RedisSettings cleartext = settings;
    cleartext.port = plain.local_endpoint().port();
    const Failure cleartext_result = co_await connect_failure(io, cleartext);
    EXPECT_EQ(cleartext_result.code, errc::tls_error) << cleartext_result.message;

    // And the other way round: a plain client at the TLS port fails fast, without TLS.
    RedisSettings forgot_tls = settings;
    forgot_tls.tls = false;
    const Failure failure = co_await connect_failure(io, forgot_tls);
    EXPECT_NE(failure.code, errc{});
    EXPECT_NE(failure.code, errc::tls_error) << failure.message;
  });
}

TEST(Tls, SettingsFromUrlAndEnvironment) {
  const TlsServer tls = start_tls_server(certs().server(), {"--tls-auth-clients", "yes"});
  run_async([&](asio::io_context& io) -> asio::awaitable<void> {
    const std::map<std::string, std::string> env = {
        {"REDIS_URL", "rediss://127.0.0.1:" + std::to_string(tls.tls_port) + "/2"},
        {"REDIS_TLS_CA_FILE", certs().ca().native()},
        {"REDIS_TLS_CERT_FILE", certs().client().cert.native()},
        {"REDIS_TLS_KEY_FILE", certs().client().key.native()},
        {"REDIS_TLS_SERVER_NAME", "localhost"},  // checked by name though connected by address
    };
    RedisSettings settings =
        RedisSettings::from_env([&](std::string_view name) -> std::optional<std::string> {
          const auto it = env.find(std::string(name));
          if (it == env.end()) return std::nullopt;
          return it->second;
        });
    EXPECT_TRUE(settings.tls);
    RedisClient client(io.get_executor(), settings);
    co_await client.connect(use_awaitable);
    co_await client.set("from-env", "yes", use_awaitable);
    EXPECT_EQ(tls.server->cli({"-n", "2", "GET", "from-env"}), "yes");

    RedisSettings by_url =
        RedisSettings::from_url("rediss://127.0.0.1:" + std::to_string(tls.tls_port) + "/0");
    by_url.tls_options = settings.tls_options;
    const Failure url_result = co_await connect_failure(io, by_url);
    EXPECT_EQ(url_result.code, errc{}) << url_result.message;
    by_url.tls_options.server_name = "wrong.example.com";
    const Failure misnamed_result = co_await connect_failure(io, by_url);
    EXPECT_EQ(misnamed_result.code, errc::tls_error) << misnamed_result.message;
  });
}

}  // namespace
}  // namespace asyncredis
