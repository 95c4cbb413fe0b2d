// http_service: the C++ twin of the seed's FastAPI service (see examples/http_service/).
//
//   REDIS_URL=redis://127.0.0.1:6379/0 http_service --port 8080 --rate-limit 100 --rate-window 60
//
// Routes: GET/PUT /users/{id} (cached, X-Cache: HIT|MISS|BYPASS), POST /login {"user_id":
// "<uuid>"} (sets the session cookie), GET /me, POST /logout, POST /logout-all; every route
// behind a per-address rate limit. Cache and rate limits live in settings.cache_db, sessions
// in settings.session_db. While Redis is down, users come from the gateway (BYPASS) and the
// session routes answer 503, each within the demo's Redis deadline (--redis-timeout-ms).
// GET /metrics answers in the Prometheus text format (pools, cache, rate limits, command
// latencies); the client's connection events go to stderr.
#include <charconv>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app.hpp"
#include "server.hpp"

namespace {

namespace asio = boost::asio;

struct Flags {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 8080;
  demo::AppConfig app;
  demo::ForwardedHeaders forwarded = demo::ForwardedHeaders::ignore;
  long gateway_latency_ms = 50;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "http_service: " << problem << "\n"
            << "usage: http_service [--port N] [--bind ADDRESS] [--rate-limit N]\n"
            << "                    [--rate-window SECONDS] [--gateway-latency-ms N]\n"
            << "                    [--redis-timeout-ms N] [--secure-cookies] [--trust-proxy]\n"
            << "  --redis-timeout-ms N  how long one Redis call may take (default 250)\n"
            << "  --secure-cookies      mark the session cookie Secure (served over HTTPS)\n"
            << "  --trust-proxy         behind one reverse proxy: the client is the last\n"
            << "                        X-Forwarded-For entry, TLS is X-Forwarded-Proto https\n"
            << "Redis settings come from the environment (REDIS_URL, REDIS_HOST, ...).\n";
  std::exit(2);
}

long number(std::string_view flag, std::string_view text, long min, long max) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    usage(std::string(flag) + ": '" + std::string(text) + "' is not a number in " +
          std::to_string(min) + "-" + std::to_string(max));
  }
  return value;
}

Flags parse(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "--port") {
      flags.port = static_cast<std::uint16_t>(number(flag, value(), 0, 65535));
    } else if (flag == "--bind") {
      flags.bind = value();
    } else if (flag == "--rate-limit") {
      flags.app.rate_limit = number(flag, value(), 1, 1'000'000'000);
    } else if (flag == "--rate-window") {
      flags.app.rate_window = std::chrono::seconds(number(flag, value(), 1, 86'400 * 366));
    } else if (flag == "--gateway-latency-ms") {
      flags.gateway_latency_ms = number(flag, value(), 0, 60'000);
    } else if (flag == "--redis-timeout-ms") {
      flags.app.redis_timeout = std::chrono::milliseconds(number(flag, value(), 1, 60'000));
    } else if (flag == "--secure-cookies") {
      flags.app.secure_cookies = true;
    } else if (flag == "--trust-proxy") {
      flags.forwarded = demo::ForwardedHeaders::trust;
    } else {
      usage("unknown flag " + std::string(flag));
    }
  }
  return flags;
}

// Three users the walk-through can ask for.
void seed(demo::UserGateway& gateway) {
  gateway.update({"3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f", "Ada Lovelace", "ada@example.com"});
  gateway.update({"7c9e6679-7425-40de-944b-e07fc1f90ae7", "Alan Turing", "alan@example.com"});
  gateway.update({"a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "Grace Hopper", "grace@example.com"});
}

}  // namespace

int main(int argc, char** argv) {
  const Flags flags = parse(argc, argv);
  try {
    auto settings = asyncredis::RedisSettings::from_env();
    // Fail at once rather than wait while a connection is known to be down, unless the
    // environment says otherwise. The demo's own Redis deadline bounds its answers either way.
    // (Empty counts as unset, as in from_env().)
    if (const char* set = std::getenv("REDIS_FAIL_FAST"); set == nullptr || *set == '\0') {
      settings.fail_fast = true;
    }
    // Latency histograms for GET /metrics, and connection events on stderr; both clients
    // share them (the settings hold them by shared_ptr).
    auto command_metrics = std::make_shared<asyncredis::CommandMetrics>();
    settings.observer = command_metrics;
    settings.logger = std::make_shared<demo::StderrLogger>();
    asio::io_context io;
    asyncredis::RedisClient cache_client(io.get_executor(), settings);
    asyncredis::RedisClient session_client(io.get_executor(), settings, settings.session_db);
    demo::UserGateway gateway(std::chrono::milliseconds(flags.gateway_latency_ms));
    seed(gateway);
    demo::App app(cache_client, session_client, gateway, flags.app, command_metrics);
    demo::Server server(io, app, flags.bind, flags.port, flags.forwarded);

    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int signal) {
      if (ec) return;
      std::cout << "http_service: signal " << signal << ", stopping" << std::endl;
      server.stop();
      cache_client.disconnect([](std::exception_ptr) {});
      session_client.disconnect([](std::exception_ptr) {});
    });

    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          co_await cache_client.connect(asio::use_awaitable);
          co_await session_client.connect(asio::use_awaitable);
          server.start();
          std::cout << "http_service: listening on http://" << flags.bind << ':' << server.port()
                    << " (redis " << settings.redacted_url() << ", sessions in db "
                    << settings.session_db << ")" << std::endl;
        },
        [&](std::exception_ptr e) {
          if (!e) return;
          failure = e;
          signals.cancel();
          server.stop();
        });
    io.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "http_service: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
