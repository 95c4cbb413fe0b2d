// Sentinel settings from a URL and the environment, back into a URL, and their validation.
// Each address is parsed by from_url() itself (as redis://host:port) and written as url()
// writes a host, so a sentinel's host means what a data node's would and fails with the same
// message.
#include "settings/settings_sentinel.hpp"

#include <algorithm>

#include "asyncredis/error.hpp"
#include "settings/settings_escape.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis::detail {

namespace {

constexpr std::uint16_t kSentinelPort = 26379;

[[noreturn]] void fail(std::string_view part, const std::string& what) {
  throw Error(errc::invalid_setting, std::string(part) + ": " + what);
}

// Whether "host[:port]" gives a port (an IPv6 literal is bracketed, its colons are not one).
bool has_port(std::string_view hostport) {
  const auto close = hostport.rfind(']');
  const auto colon = hostport.rfind(':');
  return colon != std::string_view::npos && (close == std::string_view::npos || colon > close);
}

SentinelAddress parse_address(std::string_view name, std::string_view hostport) {
  if (hostport.empty()) fail(name, "an empty address in the list; expected host:port,host:port");
  RedisSettings one;
  try {
    const std::string url = "redis://" + std::string(hostport);
    one = RedisSettings::from_url(url);
  } catch (const Error& e) {
    fail(name, quoted_value(hostport) + ": " + e.message());
  }
  if (one.username || one.password || one.cache_db != 0) {
    fail(name, quoted_value(hostport) + " is not a host:port");
  }
  return SentinelAddress{one.host, has_port(hostport) ? one.port : kSentinelPort};
}

// RFC 3986 fragment characters minus '@' (refused after the host: it means a mangled
// password) and '%': what a master name keeps unescaped in url(). '#' is escaped too.
bool is_master_char(unsigned char c) {
  return is_unreserved(c) ||
         std::string_view("!$&'()*+,;=:/?").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

bool is_sentinel_scheme(std::string_view scheme) {
  return scheme == "redis-sentinel" || scheme == "rediss-sentinel";
}

std::vector<SentinelAddress> parse_sentinel_list(std::string_view name, std::string_view list) {
  std::vector<SentinelAddress> out;
  while (true) {
    const auto comma = list.find(',');
    out.push_back(parse_address(name, list.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  return out;
}

RedisSettings sentinel_from_url(std::string_view url) {
  constexpr std::string_view part = "REDIS URL";
  const auto scheme_end = url.find("://");
  const bool tls = url.substr(0, scheme_end).size() == std::string_view("rediss-sentinel").size();
  const auto rest = url.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  const auto after_authority =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  // Checked before the master name is split off, so that a password holding '#' is not shown.
  refuse_at_after_authority(after_authority);
  const auto hash = after_authority.find('#');
  if (hash == std::string_view::npos || hash + 1 == after_authority.size()) {
    fail(part,
         "a redis-sentinel URL names the master after '#', e.g. "
         "redis-sentinel://host:26379,host:26380/0#mymaster");
  }
  // Decoded, as Lettuce (java.net.URI's fragment) does, so that any name can be written.
  std::string master = decode_url_part(after_authority.substr(hash + 1), "master name");
  const auto tail = after_authority.substr(0, hash);
  const auto at = authority.rfind('@');
  const auto hosts = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (hosts.empty()) fail("REDIS URL sentinels", "none given before the master name");

  // The user information, the database and the query read as in a redis:// URL.
  const std::string userinfo =
      at == std::string_view::npos ? std::string() : std::string(authority.substr(0, at + 1));
  const std::string base_url = "redis://" + userinfo + "localhost" + std::string(tail);
  RedisSettings settings = RedisSettings::from_url(base_url);
  settings.tls = tls;
  settings.sentinel.sentinels = parse_sentinel_list("REDIS URL sentinels", hosts);
  settings.sentinel.master_name = std::move(master);
  settings.sentinel.tls = tls;
  validate_sentinel(settings.sentinel);
  return settings;
}

std::string sentinel_scheme(const RedisSettings& settings) {
  return settings.tls || settings.sentinel.tls ? "rediss-sentinel://" : "redis-sentinel://";
}

void append_sentinel_url_tail(std::string& out, const SentinelSettings& sentinel, int db) {
  for (std::size_t i = 0; i < sentinel.sentinels.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_host(out, sentinel.sentinels[i].host);
    out.append(":").append(std::to_string(sentinel.sentinels[i].port));
  }
  out.append("/").append(std::to_string(db)).append("#");
  append_escaped(out, sentinel.master_name, is_master_char);
}

void validate_sentinel(const SentinelSettings& sentinel) {
  if (!sentinel.enabled()) return;
  const auto bad_char = [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; };
  if (sentinel.master_name.empty()) {
    fail("sentinel.master_name", "is empty; sentinels need the name of the master to find");
  }
  if (std::any_of(sentinel.master_name.begin(), sentinel.master_name.end(), bad_char)) {
    fail("sentinel.master_name",
         quoted_value(sentinel.master_name) + " has a space or control character");
  }
  for (const SentinelAddress& address : sentinel.sentinels) {
    if (address.host.empty()) fail("sentinel.sentinels", "a host is empty");
    if (address.port == 0) {
      fail("sentinel.sentinels", quoted_value(address.host) + ": port 0 is out of range 1-65535");
    }
  }
  if (sentinel.tls_options.min_version != "1.2" && sentinel.tls_options.min_version != "1.3") {
    fail("sentinel.tls_options.min_version",
         quoted_value(sentinel.tls_options.min_version) + " is not \"1.2\" or \"1.3\"");
  }
}

}  // namespace asyncredis::detail
