// Sentinel settings from a URL and the environment, back into a URL, and their validation.
// The sentinels' addresses are read and written as every address list is (settings_address),
// so a sentinel's host means what a data node's would and fails with the same message.
#include "settings/settings_sentinel.hpp"

#include <algorithm>

#include "asyncredis/error.hpp"
#include "settings/settings_address.hpp"
#include "settings/settings_escape.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis::detail {

namespace {

constexpr std::uint16_t kSentinelPort = 26379;

[[noreturn]] void fail(std::string_view part, const std::string& what) {
  throw Error(errc::invalid_setting, std::string(part) + ": " + what);
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
  return parse_address_list<SentinelAddress>(name, list, kSentinelPort);
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
  if (settings.is_cluster()) {
    fail("REDIS URL cluster",
         "a redis-sentinel URL cannot be a Redis Cluster; use one or the other");
  }
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
  append_address_list(out, sentinel.sentinels);
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
  check_addresses("sentinel.sentinels", sentinel.sentinels);
  if (sentinel.tls_options.min_version != "1.2" && sentinel.tls_options.min_version != "1.3") {
    fail("sentinel.tls_options.min_version",
         quoted_value(sentinel.tls_options.min_version) + " is not \"1.2\" or \"1.3\"");
  }
}

}  // namespace asyncredis::detail
