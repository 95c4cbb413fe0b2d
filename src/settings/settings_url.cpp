// RedisSettings <-> URL. url() keeps the Python service's get_url() format byte for byte for
// plain values, because both services read the same REDIS_URL; from_url() splits a URL the way
// redis-py does (authority ends at the first '/', '?' or '#'; user and password split at the
// first ':' and the host at the last '@'), so one URL means the same server in both languages.
// redacted_url() is url() with "***" for the password, for logs and start-up lines. Settings
// over Sentinel are written and read in the redis-sentinel:// form (settings_sentinel.cpp), a
// Redis Cluster as redis://host:port,host:port/0 or redis://host:port/0?cluster=yes
// (settings_cluster.cpp).
//
// Query parameters accepted by from_url():
//   db=N                      database (also the only way to pick one in a unix:// URL)
//   client_name=NAME          CLIENT SETNAME
//   max_connections=N         1-10000
//   connect_timeout=D, command_timeout=D, health_check_interval=D
//                             D is an integer with a unit, "500ms" or "5s"; a bare number is
//                             refused because redis-py reads bare numbers as seconds and other
//                             clients as milliseconds. health_check_interval may be 0 (off).
//   cluster=yes|no            the one host is a Redis Cluster seed node (also true/false, 1/0)
//   read_from=master|replica_preferred|replica
//                             Redis Cluster only: where read-only commands go
// Anything else is an error naming the parameter (never its value: it may be a secret).
#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "settings/settings_cluster.hpp"
#include "settings/settings_escape.hpp"
#include "settings/settings_sentinel.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis {
namespace {

using detail::append_escaped;
using detail::append_host;
using detail::decode_url_part;
using detail::is_alnum;
using detail::is_host_char;
using detail::is_unreserved;
using detail::kMaxConnections;
using detail::kMaxDatabase;
using detail::quoted_value;

constexpr std::string_view kAcceptedParams =
    "db, client_name, max_connections, connect_timeout, command_timeout, health_check_interval, "
    "cluster, read_from";

[[noreturn]] void fail(std::string_view part, const std::string& what) {
  std::string message = "REDIS URL";
  if (!part.empty()) message.append(" ").append(part);
  throw Error(errc::invalid_setting, message + ": " + what);
}

// The URL with its user information hidden, for the one error that has to show the whole URL.
std::string masked(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return quoted_value(url);
  const auto userinfo = url.substr(start, at - start);
  const auto colon = userinfo.find(':');
  // Without a ':' the user information may be a password written without its colon.
  const std::string shown =
      colon == std::string_view::npos ? "***" : std::string(userinfo.substr(0, colon)) + ":***";
  return quoted_value(std::string(url.substr(0, start)) + shown + std::string(url.substr(at)));
}

// RFC 3986 pchar minus '%' and '@' (from_url() refuses an '@' after the authority, where it
// means a mangled password): what a unix socket path may carry unescaped.
bool is_path_char(unsigned char c) {
  return is_unreserved(c) ||
         std::string_view("!$&'()*+,;=:/").find(static_cast<char>(c)) != std::string_view::npos;
}

// Strict: digits only, the whole text, within [min, max].
std::optional<std::int64_t> parse_int(std::string_view text, std::int64_t min, std::int64_t max) {
  if (text.empty() || text.front() == '-' || text.front() == '+') return std::nullopt;
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

int parse_database(std::string_view raw, std::string_view part) {
  const std::string text = decode_url_part(raw, part);
  const auto value = parse_int(text, 0, kMaxDatabase);
  if (!value)
    fail(part, quoted_value(text) + " is not a number in 0-" + std::to_string(kMaxDatabase));
  return static_cast<int>(*value);
}

std::chrono::milliseconds parse_duration(std::string_view name, std::string_view raw,
                                         std::int64_t min_ms) {
  const std::string text = decode_url_part(raw, name);
  std::string_view number = text;
  std::int64_t scale = 0;
  if (number.ends_with("ms")) {
    number.remove_suffix(2);
    scale = 1;
  } else if (number.ends_with("s")) {
    number.remove_suffix(1);
    scale = 1000;
  }
  const auto value = parse_int(number, 0, std::numeric_limits<std::int64_t>::max() / 1000);
  if (scale == 0 || !value || *value * scale < min_ms) {
    fail(name, quoted_value(text) + " is not a duration " + (min_ms > 0 ? "> 0" : ">= 0") +
                   " with a unit, like 500ms or 5s");
  }
  return std::chrono::milliseconds(*value * scale);
}

// An IPv6 literal, optionally with a zone ("fe80::1%eth0", written fe80::1%25eth0 in a URL).
void check_ipv6(const std::string& host) {
  const auto zone = host.find('%');
  const std::string address = host.substr(0, zone);
  in6_addr parsed{};
  const bool bad_zone = zone != std::string::npos && zone + 1 == host.size();
  if (bad_zone || inet_pton(AF_INET6, address.c_str(), &parsed) != 1) {
    fail("host", quoted_value("[" + host + "]") + " is not an IPv6 address");
  }
}

void parse_userinfo(std::string_view userinfo, RedisSettings& settings) {
  const auto colon = userinfo.find(':');
  std::string user = decode_url_part(userinfo.substr(0, colon), "username");
  if (!user.empty()) settings.username = std::move(user);
  if (colon == std::string_view::npos) return;
  // redis-py reads "redis://user:@host" as no password; so do we.
  std::string password = decode_url_part(userinfo.substr(colon + 1), "password", true);
  if (!password.empty()) settings.password = std::move(password);
}

void parse_host_port(std::string_view hostport, RedisSettings& settings) {
  std::string_view host_raw = hostport;
  std::optional<std::string_view> port_raw;
  bool bracketed = false;
  if (hostport.starts_with('[')) {
    const auto close = hostport.find(']');
    if (close == std::string_view::npos)
      fail("host", quoted_value(hostport) + " has no closing ']'");
    host_raw = hostport.substr(1, close - 1);
    const auto after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') {
      fail("host", quoted_value(hostport) + " has text after ']' that is not ':port'");
    }
    if (!after.empty()) port_raw = after.substr(1);
    bracketed = true;
  } else if (const auto colon = hostport.find(':'); colon != std::string_view::npos) {
    if (hostport.find(':', colon + 1) != std::string_view::npos) {
      fail("host",
           quoted_value(hostport) +
               " looks like an IPv6 address; write it in brackets, e.g. redis://[::1]:6379");
    }
    host_raw = hostport.substr(0, colon);
    port_raw = hostport.substr(colon + 1);
  }

  std::string host = decode_url_part(host_raw, "host");
  if (host.empty())
    fail("host", "is empty; expected a name or address, e.g. redis://localhost:6379");
  if (bracketed) {
    check_ipv6(host);
  } else if (const auto bad =
                 std::find_if_not(host.begin(), host.end(), [](char c) { return is_host_char(c); });
             bad != host.end()) {
    fail("host", quoted_value(host) + " has an invalid character " +
                     quoted_value(std::string_view(&*bad, 1)));
  }
  settings.host = std::move(host);

  if (port_raw) {
    const auto port = parse_int(*port_raw, 1, 65535);
    if (!port) fail("port", quoted_value(*port_raw) + " is not a number in 1-65535");
    settings.port = static_cast<std::uint16_t>(*port);
  }
}

// What the query says that is not a field of its own: the database and Redis Cluster's part.
struct QueryResult {
  std::optional<int> db;  // ?db=N
  detail::ClusterQuery cluster;
};

QueryResult parse_query(std::string_view query, RedisSettings& settings) {
  QueryResult result;
  std::set<std::string, std::less<>> seen;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    const std::string name = decode_url_part(item.substr(0, eq), "query");
    const auto value = eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
    if (!seen.insert(name).second)
      fail("query", "parameter " + quoted_value(name) + " is given twice");

    if (name == "db") {
      result.db = parse_database(value, "database");
    } else if (name == "client_name") {
      settings.client_name = decode_url_part(value, name);
    } else if (name == "max_connections") {
      const std::string text = decode_url_part(value, name);
      const auto count = parse_int(text, 1, kMaxConnections);
      if (!count) {
        fail(name, quoted_value(text) + " is not a number in 1-" + std::to_string(kMaxConnections));
      }
      settings.max_connections = static_cast<std::size_t>(*count);
    } else if (name == "connect_timeout") {
      settings.connect_timeout = parse_duration(name, value, 1);
    } else if (name == "command_timeout") {
      settings.command_timeout = parse_duration(name, value, 1);
    } else if (name == "health_check_interval") {
      settings.health_check_interval = parse_duration(name, value, 0);
    } else if (name == "cluster") {
      const std::string text = decode_url_part(value, name);
      result.cluster.cluster = detail::parse_bool(text);
      if (!result.cluster.cluster) {
        fail(name, quoted_value(text) + " is not a boolean (true/false, 1/0, yes/no)");
      }
    } else if (name == "read_from") {
      const std::string text = decode_url_part(value, name);
      result.cluster.read_from = detail::parse_read_from(text);
      if (!result.cluster.read_from) {
        fail(name, quoted_value(text) + " is not " + std::string(detail::kReadFromNames));
      }
    } else {
      fail("query", "unknown parameter " + quoted_value(name) +
                        "; accepted: " + std::string(kAcceptedParams));
    }
  }
  return result;
}

// What redacted_url() writes instead of a password: the same length whatever the password,
// and characters url() would escape in a password, so it can never be one url() wrote.
constexpr std::string_view kRedactedPassword = "***";

enum class Password { shown, redacted };

// url() and redacted_url(): one writer, so the two forms can never drift apart.
std::string write_url(const RedisSettings& s, std::optional<int> db, Password password) {
  const bool sentinel = s.sentinel.enabled();
  const bool cluster = !sentinel && s.is_cluster();
  const bool unix = !sentinel && !cluster && !s.unix_socket.empty();
  std::string out = sentinel ? detail::sentinel_scheme(s)
                    : unix   ? "unix://"
                    : s.tls  ? "rediss://"
                             : "redis://";

  // As the seed: an empty password is no password ("if self.password").
  const bool has_user = s.username && !s.username->empty();
  const bool has_password = s.password && !s.password->empty();
  if (has_user) append_escaped(out, *s.username, is_unreserved);
  if (has_password) {
    out.push_back(':');
    if (password == Password::shown) {
      append_escaped(out, *s.password, is_unreserved);
    } else {
      out.append(kRedactedPassword);
    }
  }
  if (has_user || has_password) out.push_back('@');

  const int db_number = db.value_or(s.cache_db);
  if (sentinel) {
    detail::append_sentinel_url_tail(out, s.sentinel, db_number);
    return out;
  }
  if (cluster) {
    detail::append_cluster_url_tail(out, s, db_number);
    return out;
  }
  if (unix) {
    append_escaped(out, s.unix_socket, is_path_char);
    return out + "?db=" + std::to_string(db_number);
  }
  append_host(out, s.host);
  return out + ":" + std::to_string(s.port) + "/" + std::to_string(db_number);
}

}  // namespace

std::string RedisSettings::url(std::optional<int> db) const {
  return write_url(*this, db, Password::shown);
}

std::string RedisSettings::redacted_url(std::optional<int> db) const {
  return write_url(*this, db, Password::redacted);
}

RedisSettings RedisSettings::from_url(std::string_view url) {
  if (url.empty()) fail("", "is empty; expected e.g. redis://localhost:6379/0");
  const auto scheme_end = url.find("://");
  std::string scheme(url.substr(0, scheme_end));
  const bool scheme_chars_ok =
      !scheme.empty() && std::all_of(scheme.begin(), scheme.end(), [](char c) {
        return is_alnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      });
  if (scheme_end == std::string_view::npos || !scheme_chars_ok) {
    fail("scheme", "missing in " + masked(url) + "; expected redis://, rediss:// or unix://");
  }
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  if (detail::is_sentinel_scheme(scheme)) return detail::sentinel_from_url(url);
  if (scheme != "redis" && scheme != "rediss" && scheme != "unix") {
    fail("scheme", quoted_value(url.substr(0, scheme_end)) +
                       " is not redis, rediss, unix, redis-sentinel or rediss-sentinel");
  }

  const auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  const auto tail =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  detail::refuse_at_after_authority(tail);
  const auto hash = tail.find('#');
  if (hash != std::string_view::npos) {
    fail("fragment", quoted_value(tail.substr(hash)) + " is not supported");
  }
  const auto question = tail.find('?');
  const auto path = tail.substr(0, question);
  const auto query =
      question == std::string_view::npos ? std::string_view{} : tail.substr(question + 1);

  RedisSettings settings;
  settings.tls = scheme == "rediss";
  const auto at = authority.rfind('@');
  if (at != std::string_view::npos) parse_userinfo(authority.substr(0, at), settings);
  const auto hostport = at == std::string_view::npos ? authority : authority.substr(at + 1);

  std::optional<int> path_db;
  if (scheme == "unix") {
    if (!hostport.empty()) {
      fail("host", quoted_value(hostport) +
                       " is not allowed in a unix:// URL; write unix:///path/to/redis.sock");
    }
    if (path.empty() || path == "/") {
      fail("socket path", "is empty; write unix:///path/to/redis.sock?db=0");
    }
    settings.unix_socket = decode_url_part(path, "socket path");
  } else {
    if (hostport.find(',') != std::string_view::npos) {
      detail::set_cluster_nodes(settings,
                                detail::parse_cluster_list("REDIS URL cluster nodes", hostport));
    } else {
      parse_host_port(hostport, settings);
    }
    if (path.size() > 1) path_db = parse_database(path.substr(1), "database");
  }

  const QueryResult parsed_query = parse_query(query, settings);
  const auto& query_db = parsed_query.db;
  if (path_db && query_db) {
    fail("database", "given both in the path ('/" + std::to_string(*path_db) +
                         "') and as ?db=" + std::to_string(*query_db) + "; give one");
  }
  if (path_db) settings.cache_db = *path_db;
  if (query_db) settings.cache_db = *query_db;
  detail::apply_cluster_query(settings, parsed_query.cluster, scheme == "unix");
  return settings;
}

}  // namespace asyncredis
