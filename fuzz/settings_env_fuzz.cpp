// libFuzzer target for RedisSettings::from_env(getenv) and validate(): the input is an
// environment, one NAME=value per line ("REDIS_URL=redis://h:1/2\nREDIS_PORT=7000"); names
// from_env() does not read are ignored, a name given twice takes its first value.
//
// Properties checked:
//  - from_env() and validate() return or throw asyncredis::Error(errc::invalid_setting);
//  - a single variable that is set wins over REDIS_URL (password, user, client name, paths,
//    REDIS_CLUSTER_NODES and REDIS_CLUSTER_READ_FROM);
//  - settings that pass validate() are never written by url() as a URL that names another
//    server: from_url(url()) gives the same scheme, user, password, host, port, socket,
//    database, sentinels and Redis Cluster seed nodes (and read_from), or refuses loudly;
//  - neither REDIS_PASSWORD nor a password in REDIS_URL shows in an error message.
// Seeds are in fuzz/corpus/settings_env/.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"

namespace {

using asyncredis::RedisSettings;
using Env = std::map<std::string, std::string, std::less<>>;

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
  std::fprintf(stderr, "\nsettings_env_fuzz: %s\n  input: \"%s\"\n", what.c_str(),
               printable(g_input).c_str());
  std::abort();
}

Env parse_env(std::string_view input) {
  Env env;
  while (!input.empty()) {
    const auto newline = input.find('\n');
    const auto line = input.substr(0, newline);
    input = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  return env;
}

// Runs `action`; anything thrown but Error(invalid_setting) is a failure. Returns the message
// of the Error, or nothing when `action` returned.
std::optional<std::string> error_of(const char* what, const std::function<void()>& action) {
  try {
    action();
    return std::nullopt;
  } catch (const asyncredis::Error& e) {
    if (e.code() != asyncredis::errc::invalid_setting) {
      fail(std::string(what) + " threw code " + std::to_string(e.code().value()) + ": " + e.what());
    }
    if (e.message().empty()) fail(std::string(what) + " threw an Error without a message");
    return std::string(e.what());
  } catch (const std::exception& e) {
    fail(std::string(what) + " threw something other than asyncredis::Error: " + e.what());
  } catch (...) {
    fail(std::string(what) + " threw a non-exception");
  }
}

std::optional<RedisSettings> from_env(const Env& env, std::string* message) {
  RedisSettings settings;
  const auto error = error_of("from_env", [&] {
    settings = RedisSettings::from_env([&](std::string_view name) -> std::optional<std::string> {
      const auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
  });
  if (error) {
    *message = *error;
    return std::nullopt;
  }
  return settings;
}

// Another byte of the same kind (see url_fuzz.cpp): a password changed this way takes the
// same path through the parsers, so a message that does not show it stays the same.
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

// The environment with every password changed: REDIS_PASSWORD, and in REDIS_URL what its
// writer meant as one (between the first ':' after "://" and the last '@').
Env other_passwords(Env env) {
  if (auto it = env.find("REDIS_PASSWORD"); it != env.end()) {
    for (char& c : it->second) c = same_kind(c);
  }
  if (auto it = env.find("REDIS_URL"); it != env.end()) {
    std::string& url = it->second;
    const auto scheme_end = url.find("://");
    const std::size_t start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    const auto at = url.rfind('@');
    const auto colon = url.find(':', start);
    if (at != std::string::npos && at >= start && colon != std::string::npos && colon < at) {
      for (std::size_t i = colon + 1; i < at; ++i) url[i] = same_kind(url[i]);
    }
  }
  return env;
}

void check_no_leak(const Env& env, const std::string& message, const char* what,
                   const std::function<std::optional<std::string>(const Env&)>& run) {
  const Env other = other_passwords(env);
  if (other == env) return;
  const auto other_message = run(other);
  if (other_message && *other_message != message) {
    fail(std::string("the ") + what + " error message depends on a password:\n  " +
         printable(message) + "\n  " + printable(*other_message));
  }
}

void check_single_variables_win(const Env& env, const RedisSettings& s) {
  auto expect = [&](const char* name, const std::string& actual) {
    const auto it = env.find(name);
    if (it != env.end() && !it->second.empty() && it->second != actual) {
      fail(std::string(name) + " is set but the settings hold '" + printable(actual) + "'");
    }
  };
  expect("REDIS_PASSWORD", s.password.value_or(""));
  expect("REDIS_USERNAME", s.username.value_or(""));
  expect("REDIS_CLIENT_NAME", s.client_name);
  expect("REDIS_SOCKET", s.unix_socket);
  expect("REDIS_TLS_CA_FILE", s.tls_options.ca_file);
  expect("REDIS_TLS_SERVER_NAME", s.tls_options.server_name);
  expect("REDIS_CLUSTER_READ_FROM", std::string(asyncredis::to_string(s.cluster.read_from)));
  // Each address listed in REDIS_CLUSTER_NODES is a seed node (the unit tests check the text).
  if (const auto it = env.find("REDIS_CLUSTER_NODES"); it != env.end() && !it->second.empty()) {
    const auto listed = std::count(it->second.begin(), it->second.end(), ',') + 1;
    if (s.cluster_nodes.size() != static_cast<std::size_t>(listed)) {
      fail("REDIS_CLUSTER_NODES lists " + std::to_string(listed) + " addresses but the settings " +
           "hold " + std::to_string(s.cluster_nodes.size()) + " seed nodes");
    }
  }
}

// The fields a URL carries; a unix:// URL carries no host, port or TLS; a redis-sentinel://
// URL carries the sentinels and the master instead of host, port and socket, and TLS when
// either side has it; a Redis Cluster URL the seed nodes and read_from instead of host, port
// and socket.
struct Carried {
  bool tls;
  std::optional<std::string> username, password;
  std::string host;
  std::uint16_t port;
  std::string unix_socket;
  int cache_db;
  std::vector<asyncredis::SentinelAddress> sentinels;
  std::string master_name;
  std::vector<asyncredis::ClusterNode> cluster_nodes;
  asyncredis::ReadFrom read_from;
  bool operator==(const Carried&) const = default;
};

Carried carried(const RedisSettings& s) {
  const bool sentinel = s.sentinel.enabled();
  const bool cluster = !sentinel && s.is_cluster();
  const bool unix = !sentinel && !cluster && !s.unix_socket.empty();
  const RedisSettings defaults;
  auto non_empty = [](const std::optional<std::string>& v) {
    return v && !v->empty() ? v : std::nullopt;  // url() drops an empty user or password
  };
  return {sentinel ? s.tls || s.sentinel.tls : !unix && s.tls,
          non_empty(s.username),
          non_empty(s.password),
          unix || sentinel || cluster ? defaults.host : s.host,
          unix || sentinel || cluster ? defaults.port : s.port,
          sentinel || cluster ? std::string() : s.unix_socket,
          s.cache_db,
          s.sentinel.sentinels,  // empty without Sentinel
          sentinel ? s.sentinel.master_name : std::string(),
          cluster ? s.cluster_nodes : std::vector<asyncredis::ClusterNode>(),
          cluster ? s.cluster.read_from : asyncredis::ReadFrom::master};
}

void check_url_of_valid_settings(const RedisSettings& settings) {
  const std::string url = settings.url();
  RedisSettings parsed;
  const auto error = error_of("from_url(url())", [&] { parsed = RedisSettings::from_url(url); });
  if (error) return;  // refused, by name: a mistake, but not a silent one
  if (carried(parsed) != carried(settings)) {
    fail("url() \"" + printable(url) + "\" names another server: host '" + printable(parsed.host) +
         "' (was '" + printable(settings.host) + "'), port " + std::to_string(parsed.port) +
         " (was " + std::to_string(settings.port) + "), socket '" + printable(parsed.unix_socket) +
         "' (was '" + printable(settings.unix_socket) + "')");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  g_input = std::string_view(reinterpret_cast<const char*>(data), size);
  const Env env = parse_env(g_input);

  std::string message;
  const auto settings = from_env(env, &message);
  if (!settings) {
    check_no_leak(env, message, "from_env", [](const Env& other) -> std::optional<std::string> {
      std::string other_message;
      if (from_env(other, &other_message)) return std::nullopt;
      return other_message;
    });
    return 0;
  }
  check_single_variables_win(env, *settings);

  const auto invalid = error_of("validate", [&] { settings->validate(); });
  if (invalid) {
    check_no_leak(env, *invalid, "validate", [](const Env& other) -> std::optional<std::string> {
      std::string ignored;
      const auto other_settings = from_env(other, &ignored);
      if (!other_settings) return std::nullopt;
      return error_of("validate", [&] { other_settings->validate(); });
    });
    return 0;
  }
  check_url_of_valid_settings(*settings);
  return 0;
}
