// The demo service's routes behind a rate-limit layer: users through cached(), and sessions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "asyncredis/asyncredis.hpp"
#include "client_info.hpp"
#include "http_types.hpp"
#include "metrics.hpp"
#include "user_gateway.hpp"

namespace demo {

struct AppConfig {
  std::int64_t rate_limit = 100;  // requests per window and client address
  std::chrono::seconds rate_window{60};
  std::chrono::seconds session_ttl{3600};
  std::chrono::minutes user_cache_ttl{10};  // the seed's @cached(prefix="user", ttl=600)
  // How long one Redis call of a request may take before Redis counts as unavailable. A
  // request waits on Redis at most twice before it has its answer while Redis is down (the
  // rate limit, then its route's first call), so this bounds the answer time by itself,
  // whatever the client's command_timeout and whether fail_fast is on.
  std::chrono::milliseconds redis_timeout{250};
  // Mark the session cookie Secure on every answer, not only on requests a trusted proxy
  // says came over TLS (ClientInfo::over_tls).
  bool secure_cookies = false;
};

// The memoized function: loads a user from the gateway.
struct LoadUser {
  UserGateway* gateway;
  boost::asio::awaitable<std::optional<User>> operator()(const std::string& id) const {
    return gateway->load(id);
  }
};

class App {
 public:
  // cache_client selects the cache database (rate limits live there too), session_client the
  // session database, as the Python service splits them. `command_metrics`: what GET /metrics
  // reports of command latencies (null: none).
  App(asyncredis::RedisClient& cache_client, asyncredis::RedisClient& session_client,
      UserGateway& gateway, AppConfig config,
      std::shared_ptr<const asyncredis::CommandMetrics> command_metrics = nullptr);

  // Answers one request from `client`; never throws. Errors become 4xx/5xx answers; a 5xx
  // says only "Service unavailable" (Redis could not serve) or "Internal server error", and
  // its cause goes to stderr with the request.
  boost::asio::awaitable<Response> handle(const Request& request, ClientInfo client);

 private:
  boost::asio::awaitable<Response> route(const Request& request, const ClientInfo& client);
  boost::asio::awaitable<Response> get_user(const Request& request, const std::string& id);
  boost::asio::awaitable<Response> put_user(const Request& request, const std::string& id);
  boost::asio::awaitable<Response> login(const Request& request, const ClientInfo& client);
  boost::asio::awaitable<Response> me(const Request& request);
  boost::asio::awaitable<Response> logout(const Request& request, const ClientInfo& client,
                                          bool everywhere);
  bool secure_cookie(const ClientInfo& client) const;
  // GET /metrics: outside the rate limit, so that scraping neither counts nor is refused.
  Response metrics(const Request& request) const;

  asyncredis::RedisClient& cache_client_;
  asyncredis::RedisClient& session_client_;
  std::shared_ptr<const asyncredis::CommandMetrics> command_metrics_;
  RateLimitCounters rate_decisions_;
  UserGateway& gateway_;
  AppConfig config_;
  asyncredis::CacheService cache_;
  asyncredis::Cached<LoadUser> get_user_;
  asyncredis::RateLimiter limiter_;
  asyncredis::RedisSessionRepository sessions_;
};

}  // namespace demo
