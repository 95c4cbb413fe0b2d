// libFuzzer target for RedisSettings::from_url() and url(): the input is one URL, as it would
// come from REDIS_URL or a config file.
//
// Properties checked:
//  - from_url() returns settings or throws asyncredis::Error(errc::invalid_setting), nothing
//    else (no other exception, no crash, no undefined behaviour);
//  - round trip: when it returns settings s, from_url(s.url()) gives s back, for every field a
//    URL written by url() carries (scheme, user, password, host, port, socket, database, and
//    for a redis-sentinel:// URL every sentinel, the master name and TLS, for a cluster URL
//    every seed node and read_from), and url() of that is the same text again; url(db)
//    selects db and keeps the rest, except over Redis Cluster, where from_url() refuses
//    url(db) for a db other than 0 because a cluster has only database 0;
//  - a password never appears in an error message, neither as written nor decoded.
// Seeds are in fuzz/corpus/url/, one URL per file.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"

namespace {

using asyncredis::RedisSettings;

std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (byte < 0x20 || byte >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view g_input;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\nurl_fuzz: %s\n  input: \"%s\"\n", what.c_str(),
               printable(g_input).c_str());
  std::abort();
}

std::string describe(const RedisSettings& s) {
  std::string out = "url()=\"" + printable(s.url()) + "\" host=\"" + printable(s.host) +
                    "\" port=" + std::to_string(s.port) +
                    " user=" + (s.username ? "\"" + printable(*s.username) + "\"" : "none") +
                    " password=" + (s.password ? "\"" + printable(*s.password) + "\"" : "none") +
                    " socket=\"" + printable(s.unix_socket) + "\" tls=" + (s.tls ? "1" : "0") +
                    " db=" + std::to_string(s.cache_db);
  if (s.sentinel.enabled()) {
    out += " sentinels=";
    for (const auto& address : s.sentinel.sentinels) {
      out += "[\"" + printable(address.host) + "\" " + std::to_string(address.port) + "]";
    }
    out += " master=\"" + printable(s.sentinel.master_name) +
           "\" sentinel_tls=" + (s.sentinel.tls ? "1" : "0");
  }
  if (s.is_cluster()) {
    out += " cluster_nodes=";
    for (const auto& node : s.cluster_nodes) {
      out += "[\"" + printable(node.host) + "\" " + std::to_string(node.port) + "]";
    }
    out += " read_from=" + std::string(asyncredis::to_string(s.cluster.read_from));
  }
  return out;
}

// The fields url() renders: the query-only settings (client_name, max_connections and the
// timeouts) are left out of it on purpose, since the URL is the Python service's get_url()
// format, so they go back to their defaults. Everything else is compared, the whole of
// s.sentinel, s.cluster_nodes and s.cluster included: a sentinel, a seed node, a port or a
// master name url() loses is a failure.
RedisSettings carried(RedisSettings s) {
  const RedisSettings defaults;
  s.client_name = defaults.client_name;
  s.max_connections = defaults.max_connections;
  s.connect_timeout = defaults.connect_timeout;
  s.command_timeout = defaults.command_timeout;
  s.health_check_interval = defaults.health_check_interval;
  return s;
}

// from_url(), with anything but Error(invalid_setting) a failure. nullopt: it refused.
std::optional<RedisSettings> parse(std::string_view url, std::string* message = nullptr) {
  try {
    return RedisSettings::from_url(url);
  } catch (const asyncredis::Error& e) {
    if (e.code() != asyncredis::errc::invalid_setting) {
      fail("from_url threw code " + std::to_string(e.code().value()) + ": " + e.what());
    }
    if (e.message().empty()) fail("from_url threw an Error without a message");
    if (message != nullptr) *message = e.what();
    return std::nullopt;
  } catch (const std::exception& e) {
    fail(std::string("from_url threw something other than asyncredis::Error: ") + e.what());
  } catch (...) {
    fail("from_url threw a non-exception");
  }
}

// What the writer of the URL meant as the password: between the first ':' after "://" and the
// last '@' (a password holding an unescaped '/', '?' or '#' is still a password to them).
// Returns [begin, end) in url, or nothing.
std::optional<std::pair<std::size_t, std::size_t>> intended_password(std::string_view url) {
  const auto scheme_end = url.find("://");
  const std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const auto at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::nullopt;
  const auto colon = url.find(':', start);
  if (colon == std::string_view::npos || colon > at) return std::nullopt;
  return std::pair{colon + 1, at};
}

// Another byte of the same kind, so that a changed password takes the same path through the
// parser: hex letters stay hex letters (a percent-escape stays valid or invalid), other
// letters stay non-hex letters, digits stay digits; everything else is kept.
char same_kind(char c) {
  auto rotate = [](char c, char first, char last) {
    return static_cast<char>(c == last ? first : c + 1);
  };
  if (c >= 'a' && c <= 'f') return rotate(c, 'a', 'f');
  if (c >= 'A' && c <= 'F') return rotate(c, 'A', 'F');
  if (c >= 'g' && c <= 'z') return rotate(c, 'g', 'z');
  if (c >= 'G' && c <= 'Z') return rotate(c, 'G', 'Z');
  if (c >= '0' && c <= '9') return rotate(c, '0', '9');
  return c;
}

// A message that shows the password, whole or in part, raw or decoded, changes when the
// password does: so the message for the same URL with another password of the same shape must
// be the same. (Looking for the password's text in the message instead finds "invalid" in
// "invalid setting": the fuzzer is good at making passwords out of the messages' words.)
void check_no_leak(std::string_view url, const std::string& message) {
  const auto secret = intended_password(url);
  if (!secret) return;
  std::string other(url);
  for (std::size_t i = secret->first; i < secret->second; ++i) other[i] = same_kind(other[i]);
  if (other == url) return;  // nothing to tell apart
  std::string other_message;
  if (parse(other, &other_message)) return;  // took another path after all
  if (other_message != message) {
    fail("the error message depends on the password '" +
         printable(url.substr(secret->first, secret->second - secret->first)) + "':\n  " +
         printable(message) + "\n  " + printable(other_message));
  }
}

void check_round_trip(const RedisSettings& settings) {
  const std::string url = settings.url();
  std::string message;
  const auto again = parse(url, &message);
  if (!again) {
    fail("url() of the parsed settings does not parse: " + describe(settings) +
         " error: " + printable(message));
  }
  if (carried(*again) != carried(settings)) {
    fail("round trip changed the settings:\n  first:  " + describe(settings) +
         "\n  second: " + describe(*again));
  }
  if (again->url() != url) {
    fail("url() is not stable: \"" + printable(url) + "\" then \"" + printable(again->url()) +
         "\"");
  }
  // url(db) picks the database without touching anything else; a cluster's URL with a
  // database other than 0 is refused by name instead.
  const int db = settings.cache_db == 7 ? 8 : 7;
  if (settings.is_cluster()) {
    std::string refused;
    if (parse(settings.url(db), &refused) || refused.find("only database 0") == std::string::npos) {
      fail("url(" + std::to_string(db) + ") of a cluster was not refused for its database: " +
           printable(settings.url(db)) + " error: " + printable(refused));
    }
    if (settings.url(0) != url) fail("url(0) of a cluster is not url(): " + printable(url));
    return;
  }
  const auto with_db = parse(settings.url(db));
  if (!with_db || with_db->cache_db != db) fail("url(" + std::to_string(db) + ") lost the db");
  RedisSettings expected = carried(settings);
  expected.cache_db = db;
  if (carried(*with_db) != expected) {
    fail("url(" + std::to_string(db) + ") changed more than the db:\n  first:  " +
         describe(settings) + "\n  second: " + describe(*with_db));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  g_input = url;
  std::string message;
  const auto settings = parse(url, &message);
  if (!settings) {
    check_no_leak(url, message);
    return 0;
  }
  check_round_trip(*settings);
  return 0;
}
