// Which node serves each of Redis Cluster's 16384 hash slots, read from CLUSTER SHARDS (Redis 7)
// or CLUSTER SLOTS (older servers), and patched by MOVED redirections between refreshes.
// Plain data in and out: no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "asyncredis/reply.hpp"
#include "net/node_address.hpp"

namespace asyncredis::detail {

// One master and the replicas that may serve its slots' reads.
struct ClusterShard {
  NodeAddress master;
  std::vector<NodeAddress>
      replicas;  // only healthy ones (SHARDS: health "online"); SLOTS: all listed
  friend bool operator==(const ClusterShard&, const ClusterShard&) = default;
};

// The slot map. Every shard in shards() serves at least one slot; an index from shard_of() is
// valid until the next change (move_slot() drops a shard whose last slot moves away).
class ClusterTopology {
 public:
  static constexpr std::uint16_t kNoShard = 0xFFFF;

  // No shards, every slot unserved.
  ClusterTopology();

  // From the reply of CLUSTER SHARDS (Redis 7). `asked` answered it: its host replaces an
  // endpoint the node does not know ("?" or empty). With `tls` the nodes' "tls-port" is used
  // instead of "port". Shards without slots are left out. A node's address is its "endpoint"
  // (what cluster-preferred-endpoint-type announces: ip, hostname, or "?"), else its "ip".
  // Throws Error(errc::protocol_error) saying what is malformed (a missing field, a slot out
  // of range or served twice, a shard with slots and no master, a port that is not 1-65535).
  static ClusterTopology from_shards(const Reply& reply, const NodeAddress& asked, bool tls);

  // From the reply of CLUSTER SLOTS (the fallback for servers before 7):
  // [start, end, [host, port, id, ...], replicas...] per range. An unknown host (empty, "?"
  // or nil, as Redis 7 sends it) is `asked`'s host; a master's replicas are those listed with
  // its first range. Same errors as from_shards().
  static ClusterTopology from_slots(const Reply& reply, const NodeAddress& asked);

  const std::vector<ClusterShard>& shards() const noexcept { return shards_; }
  // The index into shards() of the shard serving `slot`; kNoShard when unserved (or `slot` is
  // not below kClusterSlots).
  std::uint16_t shard_of(std::uint16_t slot) const noexcept;
  // How many of the 16384 slots have an owner.
  std::size_t served_slots() const noexcept { return served_; }

  // What a MOVED says before the next refresh: `slot` now belongs to the shard whose master is
  // `master`; a master not known yet becomes a new shard without replicas. A shard left
  // without slots is dropped (the indexes after it shift down). A slot not below
  // kClusterSlots changes nothing.
  void move_slot(std::uint16_t slot, const NodeAddress& master);

  // Every distinct node, masters first (in shard order), then replicas: for asking a
  // different one at each refresh.
  std::vector<NodeAddress> nodes() const;

 private:
  friend class TopologyBuilder;

  void remove_shard(std::uint16_t shard);

  std::vector<ClusterShard> shards_;
  std::vector<std::uint32_t> slot_counts_;  // per shard: how many slots it serves
  std::vector<std::uint16_t> owner_;        // per slot: index into shards_, or kNoShard
  std::size_t served_ = 0;
};

}  // namespace asyncredis::detail
