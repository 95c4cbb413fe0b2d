// Picking keys and masters on a LocalCluster as it is now: a key whose slot a given master
// serves, and a master other than a slot's owner (to move the slot to).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cluster/slot.hpp"
#include "support/local_cluster.hpp"

namespace asyncredis::test {

// `prefix`N for the first N whose slot the master on `port` serves now.
inline std::string key_on(const LocalCluster& cluster, std::uint16_t port,
                          const std::string& prefix) {
  for (int i = 0;; ++i) {
    std::string key = prefix + std::to_string(i);
    if (cluster.master_of(detail::slot_of(key)) == port) return key;
  }
}

// A master other than the one serving `slot`.
inline std::uint16_t another_master(const LocalCluster& cluster, std::uint16_t slot) {
  const std::uint16_t owner = cluster.master_of(slot);
  for (std::uint16_t port : cluster.master_ports()) {
    if (port != owner) return port;
  }
  throw std::runtime_error("one master only");
}

}  // namespace asyncredis::test
