// Asking one node for the cluster's slot map (CLUSTER SHARDS, or CLUSTER SLOTS on a server
// before 7) and, the first time, for its command table (COMMAND).
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>

#include "cluster/command_table.hpp"
#include "cluster/topology.hpp"
#include "net/node_address.hpp"

namespace asyncredis::detail {

class ClientCore;

struct FetchedTopology {
  ClusterTopology topology;
  std::shared_ptr<const CommandTable> commands;  // null unless asked for
};

using FetchDone = std::function<void(std::exception_ptr, FetchedTopology)>;

// Sends the questions through `pool` (the node at `node`) with `timeout`. Fails with the I/O
// error, Error(errc::invalid_setting) when the node is not in cluster mode, or
// Error(errc::protocol_error) when a reply cannot be read; `done` runs on the pool's executor.
void fetch_topology(const std::shared_ptr<ClientCore>& pool, const NodeAddress& node, bool tls,
                    bool with_commands, std::chrono::milliseconds timeout, FetchDone done);

}  // namespace asyncredis::detail
