// RedisSettings from environment variables: REDIS_URL as the base, single variables on top.
//
// An empty variable counts as unset: docker compose and most templating put "" where nothing
// was configured, and falling back to the default is what those setups mean.
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "settings/settings_cluster.hpp"
#include "settings/settings_sentinel.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis {
namespace {

using detail::kMaxConnections;
using detail::kMaxDatabase;
using detail::quoted_value;

constexpr std::int64_t kUnbounded = std::numeric_limits<std::int64_t>::max();

class EnvReader {
 public:
  explicit EnvReader(const RedisSettings::Getenv& getenv) : getenv_(getenv) {}

  std::optional<std::string> get(std::string_view name) const {
    auto value = getenv_(name);
    if (!value || value->empty()) return std::nullopt;
    return value;
  }

  void text(std::string_view name, std::string& field) const {
    if (auto value = get(name)) field = std::move(*value);
  }

  void text(std::string_view name, std::optional<std::string>& field) const {
    if (auto value = get(name)) field = std::move(*value);
  }

  // Strict: digits only (no sign, no spaces), the whole value, within [min, max].
  template <class T>
  void number(std::string_view name, T& field, std::int64_t min, std::int64_t max) const {
    if (auto value = get(name)) field = static_cast<T>(parse(name, *value, min, max));
  }

  template <class Rep, class Period>
  void duration(std::string_view name, std::chrono::duration<Rep, Period>& field,
                std::int64_t min) const {
    if (auto value = get(name)) {
      field = std::chrono::duration<Rep, Period>(parse(name, *value, min, kUnbounded));
    }
  }

  void boolean(std::string_view name, bool& field) const {
    const auto value = get(name);
    if (!value) return;
    const auto parsed = detail::parse_bool(*value);
    if (!parsed) fail(name, quoted_value(*value) + " is not a boolean (true/false, 1/0, yes/no)");
    field = *parsed;
  }

  [[noreturn]] static void fail(std::string_view name, const std::string& what) {
    throw Error(errc::invalid_setting, std::string(name) + ": " + what);
  }

 private:
  static std::int64_t parse(std::string_view name, const std::string& text, std::int64_t min,
                            std::int64_t max) {
    std::int64_t value = 0;
    const char* const end = text.data() + text.size();
    const bool signed_text = text.front() == '-' || text.front() == '+';
    const auto result = std::from_chars(text.data(), end, value);
    if (signed_text || result.ec != std::errc{} || result.ptr != end || value < min ||
        value > max) {
      const std::string range = max == kUnbounded
                                    ? ">= " + std::to_string(min)
                                    : "in " + std::to_string(min) + "-" + std::to_string(max);
      fail(name, quoted_value(text) + " is not a number " + range);
    }
    return value;
  }

  const RedisSettings::Getenv& getenv_;
};

// "[::1]" is how people write IPv6 hosts in URLs; the field holds the bare address.
std::string bare_host(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

RedisSettings RedisSettings::from_env(const Getenv& getenv) {
  const EnvReader env(getenv);
  RedisSettings settings;
  if (const auto url = env.get("REDIS_URL")) {
    try {
      settings = from_url(*url);
    } catch (const Error& e) {
      EnvReader::fail("REDIS_URL", e.message());
    }
  }

  if (auto host = env.get("REDIS_HOST")) settings.host = bare_host(std::move(*host));
  env.number("REDIS_PORT", settings.port, 1, 65535);
  env.text("REDIS_USERNAME", settings.username);
  env.text("REDIS_PASSWORD", settings.password);
  env.number("REDIS_CACHE_DB", settings.cache_db, 0, kMaxDatabase);
  env.number("REDIS_CELERY_BROKER_DB", settings.celery_broker_db, 0, kMaxDatabase);
  env.number("REDIS_CELERY_RESULT_DB", settings.celery_result_db, 0, kMaxDatabase);
  env.number("REDIS_SESSION_DB", settings.session_db, 0, kMaxDatabase);
  env.number("REDIS_MAX_CONNECTIONS", settings.max_connections, 1, kMaxConnections);
  env.duration("REDIS_DEFAULT_TTL", settings.default_ttl, 1);
  env.text("REDIS_CLIENT_NAME", settings.client_name);
  env.text("REDIS_SOCKET", settings.unix_socket);
  env.boolean("REDIS_TLS", settings.tls);
  env.duration("REDIS_CONNECT_TIMEOUT_MS", settings.connect_timeout, 1);
  env.duration("REDIS_COMMAND_TIMEOUT_MS", settings.command_timeout, 1);
  env.duration("REDIS_HEALTH_CHECK_INTERVAL_MS", settings.health_check_interval, 0);
  env.duration("REDIS_ABANDONED_REPLY_TIMEOUT_MS", settings.abandoned_reply_timeout, 1);
  env.duration("REDIS_DISCONNECT_TIMEOUT_MS", settings.disconnect_timeout, 1);
  env.number("REDIS_MAX_QUEUED_REQUESTS", settings.max_queued_requests, 1, kUnbounded);
  env.number("REDIS_MAX_QUEUED_BYTES", settings.max_queued_bytes, 1, kUnbounded);
  env.boolean("REDIS_FAIL_FAST", settings.fail_fast);
  env.text("REDIS_TLS_CA_FILE", settings.tls_options.ca_file);
  env.text("REDIS_TLS_CA_PATH", settings.tls_options.ca_path);
  env.text("REDIS_TLS_CERT_FILE", settings.tls_options.cert_file);
  env.text("REDIS_TLS_KEY_FILE", settings.tls_options.key_file);
  env.text("REDIS_TLS_SERVER_NAME", settings.tls_options.server_name);
  env.boolean("REDIS_TLS_VERIFY", settings.tls_options.verify_peer);
  if (auto sentinels = env.get("REDIS_SENTINELS")) {
    settings.sentinel.sentinels = detail::parse_sentinel_list("REDIS_SENTINELS", *sentinels);
  }
  env.text("REDIS_SENTINEL_MASTER", settings.sentinel.master_name);
  env.text("REDIS_SENTINEL_USERNAME", settings.sentinel.username);
  env.text("REDIS_SENTINEL_PASSWORD", settings.sentinel.password);
  env.boolean("REDIS_SENTINEL_TLS", settings.sentinel.tls);
  env.boolean("REDIS_SENTINEL_REPLICAS", settings.sentinel.replicas);
  if (auto nodes = env.get("REDIS_CLUSTER_NODES")) {
    detail::set_cluster_nodes(settings, detail::parse_cluster_list("REDIS_CLUSTER_NODES", *nodes));
  }
  if (const auto read_from = env.get("REDIS_CLUSTER_READ_FROM")) {
    const auto parsed = detail::parse_read_from(*read_from);
    if (!parsed) {
      EnvReader::fail("REDIS_CLUSTER_READ_FROM",
                      quoted_value(*read_from) + " is not " + std::string(detail::kReadFromNames));
    }
    settings.cluster.read_from = *parsed;
  }
  env.duration("REDIS_CLUSTER_REFRESH_INTERVAL_MS", settings.cluster.refresh_interval, 0);
  env.number("REDIS_CLUSTER_MAX_REDIRECTIONS", settings.cluster.max_redirections, 1,
             std::numeric_limits<int>::max());
  if (settings.sentinel.enabled() && settings.sentinel.master_name.empty()) {
    EnvReader::fail("REDIS_SENTINEL_MASTER",
                    "is not set; REDIS_SENTINELS needs the name of the master to find");
  }
  return settings;
}

RedisSettings RedisSettings::from_env() {
  return from_env([](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

}  // namespace asyncredis
