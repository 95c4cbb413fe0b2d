// The rebalancing plan of a replica client: which connections move to a replica back in
// service, so that the replicas share them evenly, and that nothing moves when they already do.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sentinel/replica_balance.hpp"

namespace asyncredis::detail {
namespace {

using Nodes = std::vector<std::string>;
using Moves = std::vector<std::size_t>;

TEST(ReplicaBalance, AReturningReplicaTakesHalfOfTheConnectionsOfTheOther) {
  const Nodes nodes{"a:1", "a:1", "a:1", "a:1", "a:1", "a:1"};
  const Moves moves = connections_to_move(nodes, "b:2");
  EXPECT_EQ(moves.size(), 3u);
  for (const std::size_t i : moves) EXPECT_LT(i, nodes.size());
}

TEST(ReplicaBalance, TakesFromTheFullestReplicaFirst) {
  // a holds 5, c holds 1: b's share of 7 over 3 replicas is 2, both from a.
  const Nodes nodes{"a:1", "c:3", "a:1", "a:1", "a:1", "a:1"};
  EXPECT_EQ(connections_to_move(nodes, "b:2"), (Moves{4, 5}));
}

TEST(ReplicaBalance, NothingMovesWhenTheSpreadIsEven) {
  EXPECT_TRUE(connections_to_move({"a:1", "b:2", "a:1", "b:2"}, "b:2").empty());
  EXPECT_TRUE(connections_to_move({"a:1", "b:2", "c:3"}, "b:2").empty());
  // Said again by every sentinel: the connections already heading there count as there.
  Nodes nodes{"a:1", "a:1", "a:1", "a:1"};
  for (const std::size_t i : connections_to_move(nodes, "b:2")) nodes[i] = "b:2";
  EXPECT_TRUE(connections_to_move(nodes, "b:2").empty());
}

TEST(ReplicaBalance, NoMoveThatWouldNotEvenTheSpread) {
  // One connection, two replicas: moving it would only swap which one is idle.
  EXPECT_TRUE(connections_to_move({"a:1"}, "b:2").empty());
  // Three connections over a and c (2 + 1); b's share of 3 over 3 is 1, taken from a.
  EXPECT_EQ(connections_to_move({"a:1", "a:1", "c:3"}, "b:2"), (Moves{1}));
  EXPECT_TRUE(connections_to_move({}, "b:2").empty());
}

}  // namespace
}  // namespace asyncredis::detail
