// The local Redis Cluster the cluster suites run on: six real nodes become one cluster, every
// slot served by one of three masters, and the slot function agrees with the servers'
// CLUSTER KEYSLOT on keys with and without hash tags. The client's own cluster support is
// tested on top of this fixture.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "cluster/slot.hpp"
#include "support/cluster_suite.hpp"

namespace asyncredis {
namespace {

using ClusterFixture = test::ClusterSuite;

TEST_F(ClusterFixture, SixNodesThreeMastersEverySlotServed) {
  ASSERT_EQ(cluster_->size(), 6u);
  std::set<std::uint16_t> masters;
  for (std::uint16_t slot = 0; slot < detail::kClusterSlots; slot += 1000) {
    masters.insert(cluster_->master_of(slot));
  }
  masters.insert(cluster_->master_of(detail::kClusterSlots - 1));
  EXPECT_EQ(masters.size(), 3u);
  std::size_t replicas = 0;
  for (std::size_t i = 0; i < cluster_->size(); ++i) {
    const std::string role = cluster_->node(i).cli({"ROLE"});
    replicas += role.starts_with("slave") ? 1 : 0;
  }
  EXPECT_EQ(replicas, 3u);
}

TEST_F(ClusterFixture, TheSlotFunctionAgreesWithTheServers) {
  const std::vector<std::string> keys = {"",
                                         "a",
                                         "foo",
                                         "key:0",
                                         "key:12345",
                                         "{user1000}.following",
                                         "foo{}{bar}",
                                         "foo{{bar}}zap",
                                         "foo{bar}{zap}",
                                         "session:7f0e3c1a",
                                         "\xff\xfe binary"};
  for (const std::string& key : keys) {
    const std::string answer = cluster_->node(0).cli({"CLUSTER", "KEYSLOT", key});
    EXPECT_EQ(std::to_string(detail::slot_of(key)), answer) << "key '" << key << "'";
  }
  // A key is stored on the master its slot names, and nowhere else asked for it directly.
  const std::string key = "key:fixture";
  const std::uint16_t owner = cluster_->master_of(detail::slot_of(key));
  EXPECT_EQ(cluster_->node_on(owner).cli({"SET", key, "v"}), "OK");
  EXPECT_EQ(cluster_->node_on(owner).cli({"GET", key}), "v");
}

}  // namespace
}  // namespace asyncredis
