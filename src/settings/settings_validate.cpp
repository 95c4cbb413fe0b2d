// RedisSettings::validate(): every field's range, checked before a client connects, so a bad
// configuration fails at start-up with the field's name instead of at the first command.
#include <string>
#include <string_view>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "settings/settings_cluster.hpp"
#include "settings/settings_sentinel.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis {
namespace {

using detail::kMaxDatabase;
using detail::quoted_value;
constexpr auto kMaxConnections = static_cast<std::size_t>(detail::kMaxConnections);

// Redis itself allows up to INT_MAX databases; past a million it is a typo, not a setup.
constexpr std::size_t kMinReplySize = 1024;  // smaller cannot hold an ordinary error reply
constexpr int kMaxNestingDepth = 1000;
// sockaddr_un::sun_path is 108 bytes on Linux, one of them the terminating NUL.
constexpr std::size_t kMaxUnixPath = 107;

[[noreturn]] void fail(std::string_view field, const std::string& what) {
  throw Error(errc::invalid_setting, "RedisSettings." + std::string(field) + ": " + what);
}

void check_database(std::string_view field, int db) {
  if (db < 0 || db > kMaxDatabase) {
    fail(field, std::to_string(db) + " is out of range 0-" + std::to_string(kMaxDatabase));
  }
}

void check_positive(std::string_view field, std::chrono::milliseconds value) {
  if (value.count() <= 0) fail(field, std::to_string(value.count()) + "ms must be > 0");
}

}  // namespace

void RedisSettings::validate() const {
  // First: over a cluster the seed nodes replace host and port, and a unix_socket is refused.
  detail::validate_cluster(*this);
  if (unix_socket.empty()) {
    if (!is_cluster() && host.empty()) {
      fail("host", "is empty; set a host name or address, or unix_socket");
    }
    if (!is_cluster() && port == 0) fail("port", "0 is out of range 1-65535");
  } else {
    if (tls) {
      fail("tls", "TLS works over TCP only; it cannot be used with unix_socket " +
                      quoted_value(unix_socket));
    }
    if (unix_socket.size() > kMaxUnixPath) {
      fail("unix_socket", quoted_value(unix_socket) + " is " + std::to_string(unix_socket.size()) +
                              " bytes long; a unix socket path holds at most " +
                              std::to_string(kMaxUnixPath));
    }
  }

  check_database("cache_db", cache_db);
  check_database("celery_broker_db", celery_broker_db);
  check_database("celery_result_db", celery_result_db);
  check_database("session_db", session_db);

  if (max_connections < 1 || max_connections > kMaxConnections) {
    fail("max_connections",
         std::to_string(max_connections) + " is out of range 1-" + std::to_string(kMaxConnections));
  }
  if (default_ttl.count() <= 0) {
    fail("default_ttl", std::to_string(default_ttl.count()) + "s must be > 0");
  }

  // Redis refuses names with spaces, newlines or anything outside printable ASCII.
  for (const char c : client_name) {
    if (c < '!' || c > '~') {
      fail("client_name", quoted_value(client_name) +
                              " may hold only printable ASCII without spaces (Redis refuses it)");
    }
  }

  if (tls_options.min_version != "1.2" && tls_options.min_version != "1.3") {
    fail("tls_options.min_version",
         quoted_value(tls_options.min_version) + " is not \"1.2\" or \"1.3\"");
  }

  check_positive("connect_timeout", connect_timeout);
  check_positive("command_timeout", command_timeout);
  if (health_check_interval.count() < 0) {
    fail("health_check_interval",
         std::to_string(health_check_interval.count()) + "ms must be >= 0 (0 turns it off)");
  }
  check_positive("abandoned_reply_timeout", abandoned_reply_timeout);
  check_positive("disconnect_timeout", disconnect_timeout);
  if (max_queued_requests < 1) fail("max_queued_requests", "0 must be >= 1");
  if (max_queued_bytes < 1) fail("max_queued_bytes", "0 must be >= 1");
  check_positive("reconnect_min_delay", reconnect_min_delay);
  if (reconnect_min_delay > reconnect_max_delay) {
    fail("reconnect_min_delay", std::to_string(reconnect_min_delay.count()) +
                                    "ms is greater than reconnect_max_delay (" +
                                    std::to_string(reconnect_max_delay.count()) + "ms)");
  }

  if (max_reply_size < kMinReplySize) {
    fail("max_reply_size", std::to_string(max_reply_size) + " is below the minimum of " +
                               std::to_string(kMinReplySize) + " bytes");
  }
  if (max_nesting_depth < 1 || max_nesting_depth > kMaxNestingDepth) {
    fail("max_nesting_depth", std::to_string(max_nesting_depth) + " is out of range 1-" +
                                  std::to_string(kMaxNestingDepth));
  }
  detail::validate_sentinel(sentinel);
}

}  // namespace asyncredis
