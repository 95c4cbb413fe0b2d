// Where a data node listens, as the sentinels name it: a host (name or IP) and a port.
#pragma once

#include <cstdint>
#include <string>

namespace asyncredis::detail {

struct NodeAddress {
  std::string host;
  std::uint16_t port = 0;
  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

// "host:port" ("[v6]:port"), as Connection::node() names a node.
inline std::string describe(const NodeAddress& address) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(address.port);
}

}  // namespace asyncredis::detail
