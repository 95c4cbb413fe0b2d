// One "host[:port]" of an address list (see settings_address.hpp). It is parsed by from_url()
// itself, as redis://host:port, so a listed host means what a data node's would.
#include "settings/settings_address.hpp"

#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

namespace {

[[noreturn]] void fail(std::string_view name, const std::string& what) {
  throw Error(errc::invalid_setting, std::string(name) + ": " + what);
}

// Whether "host[:port]" gives a port (an IPv6 literal is bracketed, its colons are not one).
bool has_port(std::string_view hostport) {
  const auto close = hostport.rfind(']');
  const auto colon = hostport.rfind(':');
  return colon != std::string_view::npos && (close == std::string_view::npos || colon > close);
}

}  // namespace

std::pair<std::string, std::uint16_t> parse_address(std::string_view name,
                                                    std::string_view hostport,
                                                    std::uint16_t default_port) {
  if (hostport.empty()) fail(name, "an empty address in the list; expected host:port,host:port");
  RedisSettings one;
  try {
    const std::string url = "redis://" + std::string(hostport);
    one = RedisSettings::from_url(url);
  } catch (const Error& e) {
    fail(name, quoted_value(hostport) + ": " + e.message());
  }
  // Anything but a host and a port (a user, a database, a query) has no place in an address.
  RedisSettings just_the_address;
  just_the_address.host = one.host;
  just_the_address.port = one.port;
  if (one != just_the_address) fail(name, quoted_value(hostport) + " is not a host:port");
  return {std::move(one.host), has_port(hostport) ? one.port : default_port};
}

}  // namespace asyncredis::detail
