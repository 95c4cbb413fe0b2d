// Lists of "host:port" addresses, as Sentinel (the sentinels) and Redis Cluster (the seed
// nodes) take them in a URL and in the environment, and back into a URL: one reader and one
// writer, so that an address means the same in both and fails with the same message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/error.hpp"
#include "settings/settings_escape.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis::detail {

// One "host[:port]" (IPv6 in []), read as from_url() reads redis://host:port, so that a host
// here means what a data node's would; `default_port` when it has none. Throws
// Error(invalid_setting) "<name>: '<hostport>': ..." on anything but a host and a port.
std::pair<std::string, std::uint16_t> parse_address(std::string_view name,
                                                    std::string_view hostport,
                                                    std::uint16_t default_port);

// "host:port,host:port" into addresses (SentinelAddress, ClusterNode: {host, port}), in order.
template <class Address>
std::vector<Address> parse_address_list(std::string_view name, std::string_view list,
                                        std::uint16_t default_port) {
  std::vector<Address> out;
  while (true) {
    const auto comma = list.find(',');
    auto [host, port] = parse_address(name, list.substr(0, comma), default_port);
    out.push_back(Address{std::move(host), port});
    if (comma == std::string_view::npos) break;
    list = list.substr(comma + 1);
  }
  return out;
}

// Appends "host:port,host:port": every port written, hosts escaped as url() escapes a host
// (a ',' in a host set in code cannot add an address).
template <class Address>
void append_address_list(std::string& out, const std::vector<Address>& addresses) {
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_host(out, addresses[i].host);
    out.append(":").append(std::to_string(addresses[i].port));
  }
}

// For validate(): throws Error(invalid_setting) "<field>: ..." when an address has an empty
// host or port 0.
template <class Address>
void check_addresses(std::string_view field, const std::vector<Address>& addresses) {
  for (const Address& address : addresses) {
    if (address.host.empty()) {
      throw Error(errc::invalid_setting, std::string(field) + ": a host is empty");
    }
    if (address.port == 0) {
      throw Error(errc::invalid_setting, std::string(field) + ": " + quoted_value(address.host) +
                                             ": port 0 is out of range 1-65535");
    }
  }
}

}  // namespace asyncredis::detail
