#include "app.hpp"

#include <iostream>
#include <string_view>

#include <boost/asio/use_awaitable.hpp>

#include "cookies.hpp"

namespace demo {

namespace asio = boost::asio;
using asio::use_awaitable;
using nlohmann::json;

namespace {

Response json_response(const Request& request, http::status status, const json& body) {
  Response response(status, request.version());
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = body.dump();
  response.prepare_payload();
  return response;
}

Response error(const Request& request, http::status status, std::string detail) {
  return json_response(request, status, {{"detail", std::move(detail)}});
}

// The cause of a 5xx is for the operator, not the client (it names hosts, ports, keys): it
// goes to stderr with the request line. Not the headers: they carry the session cookie.
void log_failure(const Request& request, const ClientInfo& client, http::status status,
                 std::string_view cause) {
  std::cerr << "http_service: " << static_cast<unsigned>(status) << " \"" << request.method_string()
            << ' ' << request.target() << "\" from " << client.address << ": " << cause
            << std::endl;
}

// What a client may see of its session. Not the id: it lives in the HttpOnly cookie only,
// where scripts on the page (and whatever logs response bodies) cannot read it.
json session_json(const asyncredis::Session& session) {
  return {{"user_id", session.user_id.to_string()},
          {"created_at", asyncredis::format_iso8601(session.created_at)},
          {"expires_at", asyncredis::format_iso8601(session.expires_at)}};
}

// Redis may be down: the per-address limit then goes on in this process (local_fallback),
// and after one check found Redis unavailable the next ones skip it for a second, so an
// outage does not add the Redis deadline to every request.
asyncredis::RateLimiterOptions limiter_options(const AppConfig& config) {
  asyncredis::RateLimiterOptions options;
  options.on_unavailable = asyncredis::OnUnavailable::local_fallback;
  options.timeout = config.redis_timeout;
  options.cooldown = std::chrono::seconds(1);
  return options;
}

}  // namespace

// Every Redis call of a request gets config.redis_timeout (Commands::with_timeout), not the
// client's command_timeout: a request answers within the demo's own deadline when Redis is
// down. The cache fails rather than treating an outage as a miss (treat_as_miss would hide
// it), so get_user() can tell a bypass from a miss.
App::App(asyncredis::RedisClient& cache_client, asyncredis::RedisClient& session_client,
         UserGateway& gateway, AppConfig config,
         std::shared_ptr<const asyncredis::CommandMetrics> command_metrics)
    : cache_client_(cache_client),
      session_client_(session_client),
      command_metrics_(std::move(command_metrics)),
      gateway_(gateway),
      config_(config),
      cache_(cache_client.with_timeout(config.redis_timeout), cache_client.get_executor()),
      get_user_(asyncredis::cached(cache_, "user", config.user_cache_ttl, LoadUser{&gateway})),
      limiter_(cache_client, limiter_options(config)),
      sessions_(session_client.with_timeout(config.redis_timeout), session_client.get_executor()) {}

asio::awaitable<Response> App::handle(const Request& request, ClientInfo client) {
  if (request.target() == "/metrics" && request.method() == http::verb::get) {
    co_return metrics(request);
  }
  try {
    // The rate-limit layer, in front of every route: a 429 is an ordinary answer here, not an
    // exception thrown through the framework (the seed's mistake 8).
    // Named, not a temporary in the co_await: GCC 12 destroys those twice.
    const std::string key = "ip:" + client.address;
    auto decision =
        co_await limiter_.check(key, config_.rate_limit, config_.rate_window, use_awaitable);
    ++(decision.allowed ? rate_decisions_.allowed : rate_decisions_.denied);
    if (!decision.allowed) {
      Response denied = json_response(request, http::status::too_many_requests,
                                      {{"detail", "Rate limit exceeded"},
                                       {"retry_after", asyncredis::retry_after_seconds(decision)}});
      for (auto& [name, value] : asyncredis::rate_limit_headers(decision)) {
        denied.set(name, value);
      }
      co_return denied;
    }
    Response response = co_await route(request, client);
    asyncredis::RateLimitHeaderOptions allowed_headers;
    allowed_headers.retry_after = false;
    for (auto& [name, value] : asyncredis::rate_limit_headers(decision, allowed_headers)) {
      response.set(name, value);
    }
    co_return response;
  } catch (const asyncredis::Error& e) {
    if (asyncredis::is_unavailable(e.code(), e.message())) {
      log_failure(request, client, http::status::service_unavailable,
                  "Redis unavailable: " + e.message());
      co_return error(request, http::status::service_unavailable, "Service unavailable");
    }
    log_failure(request, client, http::status::internal_server_error, e.message());
  } catch (const std::exception& e) {
    log_failure(request, client, http::status::internal_server_error, e.what());
  }
  co_return error(request, http::status::internal_server_error, "Internal server error");
}

asio::awaitable<Response> App::route(const Request& request, const ClientInfo& client) {
  const std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  const auto method = request.method();
  if (path.starts_with("/users/") && path.size() > 7) {
    const std::string id(path.substr(7));
    if (method == http::verb::get) co_return co_await get_user(request, id);
    if (method == http::verb::put) co_return co_await put_user(request, id);
  } else if (path == "/login" && method == http::verb::post) {
    co_return co_await login(request, client);
  } else if (path == "/me" && method == http::verb::get) {
    co_return co_await me(request);
  } else if (path == "/logout" && method == http::verb::post) {
    co_return co_await logout(request, client, false);
  } else if (path == "/logout-all" && method == http::verb::post) {
    co_return co_await logout(request, client, true);
  }
  co_return error(request, http::status::not_found, "no route for " + std::string(path));
}

// X-Cache: HIT (from Redis), MISS (loaded, then stored), BYPASS (Redis unavailable: loaded
// from the gateway, nothing stored). Other Redis errors are not hidden: they are 500s.
asio::awaitable<Response> App::get_user(const Request& request, const std::string& id) {
  const auto loads_before = gateway_.loads(id);
  std::optional<User> user;
  std::string_view cache_state;
  bool bypass = false;
  try {
    user = co_await get_user_(id);
    cache_state = gateway_.loads(id) == loads_before ? "HIT" : "MISS";
  } catch (const asyncredis::Error& e) {
    if (!asyncredis::is_unavailable(e.code(), e.message())) throw;
    bypass = true;  // co_await is not allowed in a handler
  }
  if (bypass) {
    user = co_await gateway_.load(id);
    cache_state = "BYPASS";
  }
  Response response = user ? json_response(request, http::status::ok, *user)
                           : error(request, http::status::not_found, "no user " + id);
  response.set("X-Cache", cache_state);
  co_return response;
}

asio::awaitable<Response> App::put_user(const Request& request, const std::string& id) {
  json body = json::parse(request.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object() || !body.contains("name") ||
      !body["name"].is_string() || !body.contains("email") || !body["email"].is_string()) {
    co_return error(request, http::status::bad_request,
                    R"(body must be {"name": "...", "email": "..."})");
  }
  User user{id, body["name"].get<std::string>(), body["email"].get<std::string>()};
  gateway_.update(user);
  // The key comes from the same arguments cached() used, so this always hits (the seed
  // deleted "user:{id}" while its decorator stored "user:<md5>": mistake 4). While Redis is
  // down this fails (503): a lost invalidation must not pass in silence.
  co_await get_user_.invalidate(id, use_awaitable);
  co_return json_response(request, http::status::ok, user);
}

asio::awaitable<Response> App::login(const Request& request, const ClientInfo& client) {
  json body = json::parse(request.body(), nullptr, false);
  std::optional<asyncredis::Uuid> user_id;
  if (!body.is_discarded() && body.is_object() && body.contains("user_id") &&
      body["user_id"].is_string()) {
    user_id = asyncredis::Uuid::try_parse(body["user_id"].get<std::string>());
  }
  if (!user_id) {
    co_return error(request, http::status::bad_request, R"(body must be {"user_id": "<uuid>"})");
  }
  asyncredis::Session session =
      co_await sessions_.create(*user_id, config_.session_ttl, use_awaitable);
  Response response = json_response(request, http::status::ok, session_json(session));
  response.set(http::field::set_cookie,
               session_cookie(session.id, config_.session_ttl, secure_cookie(client)));
  co_return response;
}

asio::awaitable<Response> App::me(const Request& request) {
  const std::string id = cookie_value(request, "session_id");
  auto session = co_await sessions_.get(id, use_awaitable);
  if (!session) co_return error(request, http::status::unauthorized, "not logged in");
  co_return json_response(request, http::status::ok, session_json(*session));
}

asio::awaitable<Response> App::logout(const Request& request, const ClientInfo& client,
                                      bool everywhere) {
  const std::string id = cookie_value(request, "session_id");
  auto session = co_await sessions_.get(id, use_awaitable);
  if (!session) co_return error(request, http::status::unauthorized, "not logged in");
  json body;
  if (everywhere) {
    body["revoked"] = co_await sessions_.revoke_all(session->user_id, use_awaitable);
  } else {
    body["removed"] = co_await sessions_.remove(id, use_awaitable);
  }
  Response response = json_response(request, http::status::ok, body);
  // The same attributes as the cookie it clears, so the browser replaces that one.
  response.set(http::field::set_cookie,
               session_cookie("", std::chrono::seconds(0), secure_cookie(client)));
  co_return response;
}

Response App::metrics(const Request& request) const {
  MetricsSources sources;
  sources.pools = {{"cache", cache_client_.stats()}, {"sessions", session_client_.stats()}};
  sources.cache = cache_.stats();
  sources.rate_allowed = rate_decisions_.allowed.load();
  sources.rate_denied = rate_decisions_.denied.load();
  if (command_metrics_) sources.commands = command_metrics_->snapshot();
  Response response(http::status::ok, request.version());
  response.set(http::field::content_type, prometheus_content_type);
  response.keep_alive(request.keep_alive());
  response.body() = render_prometheus(sources);
  response.prepare_payload();
  return response;
}

bool App::secure_cookie(const ClientInfo& client) const {
  return config_.secure_cookies || client.over_tls;
}

}  // namespace demo
