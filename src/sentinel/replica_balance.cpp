// The rebalancing plan for a replica back in service (see replica_balance.hpp).
#include "sentinel/replica_balance.hpp"

#include <algorithm>
#include <map>

namespace asyncredis::detail {

std::vector<std::size_t> connections_to_move(const std::vector<std::string>& nodes,
                                             const std::string& returning) {
  std::map<std::string, std::vector<std::size_t>> on;  // node -> its connections
  for (std::size_t i = 0; i < nodes.size(); ++i) on[nodes[i]].push_back(i);
  std::vector<std::size_t>& arriving = on[returning];
  const std::size_t share = nodes.size() / on.size();
  std::vector<std::size_t> moves;
  while (arriving.size() < share) {
    auto fullest = on.end();
    for (auto it = on.begin(); it != on.end(); ++it) {
      if (it->first == returning) continue;
      if (fullest == on.end() || it->second.size() > fullest->second.size()) fullest = it;
    }
    if (fullest == on.end() || fullest->second.size() < arriving.size() + 2) break;
    moves.push_back(fullest->second.back());
    arriving.push_back(fullest->second.back());
    fullest->second.pop_back();
  }
  std::sort(moves.begin(), moves.end());
  return moves;
}

}  // namespace asyncredis::detail
