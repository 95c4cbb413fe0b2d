// Which of a replica client's connections move when a replica comes back into service, so
// that the replicas share them evenly again. Plain data in, indices out: no sockets.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace asyncredis::detail {

// `nodes[i]`: where connection i is (or is heading), as Connection::node() names it;
// `returning`: the replica back in service. Returns the connections to move to it, taken one
// at a time from the replica holding the most, until `returning` holds its share
// (nodes.size() / replicas) or moving one more would not make the spread more even.
std::vector<std::size_t> connections_to_move(const std::vector<std::string>& nodes,
                                             const std::string& returning);

}  // namespace asyncredis::detail
