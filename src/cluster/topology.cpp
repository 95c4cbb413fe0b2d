// Reading CLUSTER SHARDS and CLUSTER SLOTS into a slot map (see topology.hpp). The replies come
// from the network, so every field is checked before it is used and nothing is allocated
// beyond what the reply itself holds.
#include "cluster/topology.hpp"

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "asyncredis/error.hpp"
#include "cluster/slot.hpp"

namespace asyncredis::detail {

namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw Error(errc::protocol_error, "cluster topology: " + what);
}

std::string describe_type(const Reply& reply) {
  return std::string(to_string(reply.type()));
}

// RESP2 sends a map as an array of name, value pairs; null when `name` is absent.
const Reply* field(const Reply& map, std::string_view name) {
  const std::vector<Reply>& e = map.elements();
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (e[i].is_string() && e[i].str() == name) return &e[i + 1];
  }
  return nullptr;
}

const Reply& map_at(const Reply& list, std::size_t i, const std::string& what) {
  const Reply& map = list.elements()[i];
  if (!map.is_array() || map.elements().size() % 2 != 0) {
    malformed(what + " " + std::to_string(i) + " is not a map but " + to_debug_string(map));
  }
  return map;
}

const std::string* string_field(const Reply& map, std::string_view name) {
  const Reply* value = field(map, name);
  return value != nullptr && value->is_string() ? &value->str() : nullptr;
}

std::uint16_t port_of(const Reply& value, const std::string& what) {
  if (!value.is_integer() || value.integer() < 1 || value.integer() > 65535) {
    malformed(what + " is not a port but " + to_debug_string(value));
  }
  return static_cast<std::uint16_t>(value.integer());
}

std::uint16_t slot_number(const Reply& value) {
  if (!value.is_integer() || value.integer() < 0 || value.integer() >= kClusterSlots) {
    malformed("a slot is not 0-16383 but " + to_debug_string(value));
  }
  return static_cast<std::uint16_t>(value.integer());
}

// A host the node does not know is the host of the node that answered.
std::string host_or_asked(const std::string* host, const NodeAddress& asked) {
  if (host == nullptr || host->empty() || *host == "?") return asked.host;
  return *host;
}

}  // namespace

// Fills a topology, finding shards by master in constant time (a hostile reply may name
// thousands of masters).
class TopologyBuilder {
 public:
  std::uint16_t shard_for(NodeAddress master, bool& added) {
    const auto [it, inserted] = index_.try_emplace(describe(master), 0);
    added = inserted;
    if (inserted) {
      // Every shard serves a slot (assign() runs before the next one), so there are at most
      // kClusterSlots of them.
      it->second = static_cast<std::uint16_t>(topology_.shards_.size());
      topology_.shards_.push_back(ClusterShard{std::move(master), {}});
      topology_.slot_counts_.push_back(0);
    }
    return it->second;
  }

  ClusterShard& shard(std::uint16_t index) { return topology_.shards_[index]; }

  void assign(std::uint16_t first, std::uint16_t last, std::uint16_t shard) {
    if (first > last) {
      malformed("the slot range " + std::to_string(first) + "-" + std::to_string(last) +
                " ends before it starts");
    }
    for (std::uint32_t slot = first; slot <= last; ++slot) {
      std::uint16_t& owner = topology_.owner_[slot];
      if (owner != ClusterTopology::kNoShard) {
        malformed("slot " + std::to_string(slot) + " is served by two masters");
      }
      owner = shard;
    }
    topology_.slot_counts_[shard] += last - first + 1u;
    topology_.served_ += last - first + 1u;
  }

  ClusterTopology take() { return std::move(topology_); }

 private:
  ClusterTopology topology_;
  std::unordered_map<std::string, std::uint16_t> index_;
};

namespace {

// One node of a CLUSTER SHARDS shard: its endpoint (else its ip) and its port or tls-port.
NodeAddress shard_node(const Reply& node, const NodeAddress& asked, bool tls) {
  const std::string* endpoint = string_field(node, "endpoint");
  const std::string* host = endpoint != nullptr ? endpoint : string_field(node, "ip");
  const char* port_name = tls ? "tls-port" : "port";
  const Reply* port = field(node, port_name);
  if (port == nullptr)
    malformed("a node has no " + std::string(port_name) + ": " + to_debug_string(node));
  return NodeAddress{host_or_asked(host, asked),
                     port_of(*port, std::string("a node's ") + port_name)};
}

// [host, port, id, ...] of CLUSTER SLOTS.
NodeAddress slots_node(const Reply& node, const NodeAddress& asked) {
  const std::vector<Reply>& e = node.elements();
  if (!node.is_array() || e.size() < 2 || !(e[0].is_string() || e[0].is_nil())) {
    malformed("a node is not [host, port, ...] but " + to_debug_string(node));
  }
  return NodeAddress{host_or_asked(e[0].is_nil() ? nullptr : &e[0].str(), asked),
                     port_of(e[1], "a node's port")};
}

}  // namespace

ClusterTopology::ClusterTopology() : owner_(kClusterSlots, kNoShard) {}

ClusterTopology ClusterTopology::from_shards(const Reply& reply, const NodeAddress& asked,
                                             bool tls) {
  if (!reply.is_array()) malformed("CLUSTER SHARDS replied " + describe_type(reply));
  TopologyBuilder builder;
  const std::vector<Reply>& shards = reply.elements();
  for (std::size_t i = 0; i < shards.size(); ++i) {
    const Reply& shard = map_at(reply, i, "shard");
    const Reply* slots = field(shard, "slots");
    const Reply* nodes = field(shard, "nodes");
    if (slots == nullptr || !slots->is_array() || slots->elements().size() % 2 != 0) {
      malformed("shard " + std::to_string(i) + " has no list of slot ranges");
    }
    if (nodes == nullptr || !nodes->is_array()) {
      malformed("shard " + std::to_string(i) + " has no list of nodes");
    }
    if (slots->elements().empty()) continue;
    const Reply* master = nullptr;
    for (std::size_t n = 0; n < nodes->elements().size(); ++n) {
      const Reply& node = map_at(*nodes, n, "node");
      const std::string* role = string_field(node, "role");
      if (role == nullptr || *role != "master") continue;
      if (master != nullptr) malformed("shard " + std::to_string(i) + " has two masters");
      master = &node;
    }
    if (master == nullptr) malformed("shard " + std::to_string(i) + " has slots but no master");
    bool added = false;
    const std::uint16_t index = builder.shard_for(shard_node(*master, asked, tls), added);
    if (!added) malformed("two shards have the master " + describe(builder.shard(index).master));
    for (const Reply& node : nodes->elements()) {
      const std::string* role = string_field(node, "role");
      const std::string* health = string_field(node, "health");
      if (role == nullptr || *role != "replica" || health == nullptr || *health != "online") {
        continue;
      }
      builder.shard(index).replicas.push_back(shard_node(node, asked, tls));
    }
    const std::vector<Reply>& ranges = slots->elements();
    for (std::size_t r = 0; r < ranges.size(); r += 2) {
      builder.assign(slot_number(ranges[r]), slot_number(ranges[r + 1]), index);
    }
  }
  return builder.take();
}

ClusterTopology ClusterTopology::from_slots(const Reply& reply, const NodeAddress& asked) {
  if (!reply.is_array()) malformed("CLUSTER SLOTS replied " + describe_type(reply));
  TopologyBuilder builder;
  for (const Reply& range : reply.elements()) {
    const std::vector<Reply>& e = range.elements();
    if (!range.is_array() || e.size() < 3) {
      malformed("a slot range is not [start, end, master, ...] but " + to_debug_string(range));
    }
    const std::uint16_t first = slot_number(e[0]);
    const std::uint16_t last = slot_number(e[1]);
    bool added = false;
    const std::uint16_t index = builder.shard_for(slots_node(e[2], asked), added);
    if (added) {
      for (std::size_t r = 3; r < e.size(); ++r) {
        builder.shard(index).replicas.push_back(slots_node(e[r], asked));
      }
    }
    builder.assign(first, last, index);
  }
  return builder.take();
}

std::uint16_t ClusterTopology::shard_of(std::uint16_t slot) const noexcept {
  return slot < kClusterSlots ? owner_[slot] : kNoShard;
}

void ClusterTopology::move_slot(std::uint16_t slot, const NodeAddress& master) {
  if (slot >= kClusterSlots) return;
  std::uint16_t index = kNoShard;
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    if (shards_[i].master == master) index = static_cast<std::uint16_t>(i);
  }
  const std::uint16_t old = owner_[slot];
  if (index != kNoShard && index == old) return;
  if (index == kNoShard) {
    // At most kClusterSlots shards serve a slot each (empty ones are dropped), so this one
    // fits below kNoShard.
    index = static_cast<std::uint16_t>(shards_.size());
    shards_.push_back(ClusterShard{master, {}});
    slot_counts_.push_back(0);
  }
  owner_[slot] = index;
  ++slot_counts_[index];
  if (old == kNoShard) {
    ++served_;
  } else if (--slot_counts_[old] == 0) {
    remove_shard(old);
  }
}

void ClusterTopology::remove_shard(std::uint16_t shard) {
  shards_.erase(shards_.begin() + shard);
  slot_counts_.erase(slot_counts_.begin() + shard);
  for (std::uint16_t& owner : owner_) {
    if (owner != kNoShard && owner > shard) --owner;
  }
}

std::vector<NodeAddress> ClusterTopology::nodes() const {
  std::vector<NodeAddress> out;
  std::unordered_set<std::string> seen;
  const auto add = [&](const NodeAddress& node) {
    if (seen.insert(describe(node)).second) out.push_back(node);
  };
  for (const ClusterShard& shard : shards_) add(shard.master);
  for (const ClusterShard& shard : shards_) {
    for (const NodeAddress& replica : shard.replicas) add(replica);
  }
  return out;
}

}  // namespace asyncredis::detail
