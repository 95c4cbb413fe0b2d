// The cluster's slot map from CLUSTER SHARDS and CLUSTER SLOTS replies (shapes copied from
// redis-cli against redis-server 7.0), patched by MOVED, and every malformed reply refused with
// protocol_error.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "asyncredis/error.hpp"
#include "cluster/slot.hpp"
#include "cluster/topology.hpp"

namespace asyncredis::detail {
namespace {

Reply str(std::string text) {
  return Reply::bulk_string(std::move(text));
}
Reply num(std::int64_t value) {
  return Reply::integer(value);
}
Reply arr(std::vector<Reply> elements) {
  return Reply::array(std::move(elements));
}

// One node of a CLUSTER SHARDS shard, as Redis 7.0 lists it.
Reply shard_node(std::string endpoint, std::int64_t port, std::string role,
                 std::string health = "online") {
  return arr({str("id"), str("4a09c4d7d4aa96d17c676c29fa2307aadf92e561"), str("port"), num(port),
              str("ip"), str("10.0.0.1"), str("endpoint"), str(std::move(endpoint)), str("role"),
              str(std::move(role)), str("replication-offset"), num(72156), str("health"),
              str(std::move(health))});
}

Reply shard(std::vector<Reply> slots, std::vector<Reply> nodes) {
  return arr({str("slots"), arr(std::move(slots)), str("nodes"), arr(std::move(nodes))});
}

const NodeAddress kAsked{"seed.example", 7000};

void expect_protocol_error(const Reply& reply, bool shards, const std::string& what) {
  try {
    if (shards) {
      (void)ClusterTopology::from_shards(reply, kAsked, false);
    } else {
      (void)ClusterTopology::from_slots(reply, kAsked);
    }
    ADD_FAILURE() << what << ": accepted " << to_debug_string(reply);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::protocol_error)) << what;
    EXPECT_FALSE(e.message().empty()) << what;
  }
}

TEST(ClusterTopology, NewTopologyServesNothing) {
  const ClusterTopology topology;
  EXPECT_TRUE(topology.shards().empty());
  EXPECT_EQ(topology.served_slots(), 0u);
  EXPECT_EQ(topology.shard_of(0), ClusterTopology::kNoShard);
  EXPECT_EQ(topology.shard_of(kClusterSlots - 1), ClusterTopology::kNoShard);
  EXPECT_EQ(topology.shard_of(kClusterSlots), ClusterTopology::kNoShard);
  EXPECT_TRUE(topology.nodes().empty());
}

TEST(ClusterTopology, ShardsGiveMastersHealthyReplicasAndEverySlot) {
  const Reply reply = arr({
      shard({num(10923), num(16383)},
            {shard_node("127.0.0.1", 7003, "master"), shard_node("127.0.0.1", 7006, "replica"),
             shard_node("127.0.0.1", 7007, "replica", "failed"),
             shard_node("127.0.0.1", 7008, "replica", "loading")}),
      shard({num(0), num(100), num(5461), num(10922)},
            {shard_node("127.0.0.1", 7005, "replica"), shard_node("127.0.0.1", 7002, "master")}),
      shard({num(101), num(5460)}, {shard_node("127.0.0.1", 7001, "master")}),
  });
  const ClusterTopology topology = ClusterTopology::from_shards(reply, kAsked, false);
  ASSERT_EQ(topology.shards().size(), 3u);
  EXPECT_EQ(topology.shards()[0],
            (ClusterShard{{"127.0.0.1", 7003}, {NodeAddress{"127.0.0.1", 7006}}}));
  EXPECT_EQ(topology.shards()[1],
            (ClusterShard{{"127.0.0.1", 7002}, {NodeAddress{"127.0.0.1", 7005}}}));
  EXPECT_EQ(topology.shards()[2], (ClusterShard{{"127.0.0.1", 7001}, {}}));
  EXPECT_EQ(topology.served_slots(), std::size_t{kClusterSlots});
  EXPECT_EQ(topology.shard_of(0), 1);
  EXPECT_EQ(topology.shard_of(100), 1);
  EXPECT_EQ(topology.shard_of(101), 2);
  EXPECT_EQ(topology.shard_of(5460), 2);
  EXPECT_EQ(topology.shard_of(5461), 1);
  EXPECT_EQ(topology.shard_of(10923), 0);
  EXPECT_EQ(topology.shard_of(16383), 0);
  const std::vector<NodeAddress> nodes = topology.nodes();
  const std::vector<NodeAddress> expected = {{"127.0.0.1", 7003},
                                             {"127.0.0.1", 7002},
                                             {"127.0.0.1", 7001},
                                             {"127.0.0.1", 7006},
                                             {"127.0.0.1", 7005}};
  EXPECT_EQ(nodes, expected);
}

TEST(ClusterTopology, ShardsNameNodesByEndpointElseIpElseTheAskedHost) {
  Reply no_endpoint = arr({str("id"), str("x"), str("port"), num(7002), str("ip"), str("10.0.0.2"),
                           str("role"), str("replica"), str("health"), str("online")});
  const Reply reply = arr({
      shard({num(0), num(99)},
            {shard_node("redis-0.example", 7001, "master"), shard_node("?", 7004, "replica"),
             shard_node("", 7005, "replica"), no_endpoint}),
  });
  const ClusterTopology topology = ClusterTopology::from_shards(reply, kAsked, false);
  ASSERT_EQ(topology.shards().size(), 1u);
  const ClusterShard& s = topology.shards()[0];
  EXPECT_EQ(s.master, (NodeAddress{"redis-0.example", 7001}));
  const std::vector<NodeAddress> replicas = {
      {"seed.example", 7004}, {"seed.example", 7005}, {"10.0.0.2", 7002}};
  EXPECT_EQ(s.replicas, replicas);
  EXPECT_EQ(topology.served_slots(), 100u);
  EXPECT_EQ(topology.shard_of(100), ClusterTopology::kNoShard);
}

TEST(ClusterTopology, ShardsWithTlsUseTheTlsPort) {
  const Reply node = arr({str("id"), str("x"), str("port"), num(7001), str("tls-port"), num(17001),
                          str("ip"), str("127.0.0.1"), str("endpoint"), str("127.0.0.1"),
                          str("role"), str("master"), str("health"), str("online")});
  const Reply reply = arr({shard({num(0), num(16383)}, {node})});
  EXPECT_EQ(ClusterTopology::from_shards(reply, kAsked, true).shards()[0].master.port, 17001);
  EXPECT_EQ(ClusterTopology::from_shards(reply, kAsked, false).shards()[0].master.port, 7001);
  // A node without a tls-port cannot be reached over TLS.
  const Reply plain = arr({shard({num(0), num(16383)}, {shard_node("127.0.0.1", 7001, "master")})});
  EXPECT_THROW((void)ClusterTopology::from_shards(plain, kAsked, true), Error);
}

TEST(ClusterTopology, ShardsWithoutSlotsAreLeftOut) {
  const Reply reply = arr({
      shard({}, {shard_node("127.0.0.1", 7009, "master")}),
      shard({}, {shard_node("127.0.0.1", 7010, "replica")}),  // no master needed then
      shard({num(0), num(16383)}, {shard_node("127.0.0.1", 7001, "master")}),
  });
  const ClusterTopology topology = ClusterTopology::from_shards(reply, kAsked, false);
  ASSERT_EQ(topology.shards().size(), 1u);
  EXPECT_EQ(topology.shards()[0].master.port, 7001);
  EXPECT_EQ(topology.shard_of(42), 0);
}

TEST(ClusterTopology, MalformedShardsAreProtocolErrors) {
  const Reply master = shard_node("127.0.0.1", 7001, "master");
  const std::vector<std::pair<std::string, Reply>> cases = {
      {"not an array", str("ERR")},
      {"a shard that is no map", arr({str("slots")})},
      {"a shard of odd length", arr({arr({str("slots"), arr({}), str("nodes")})})},
      {"no slots", arr({arr({str("nodes"), arr({master})})})},
      {"no nodes", arr({arr({str("slots"), arr({num(0), num(1)})})})},
      {"slots not a list", arr({arr({str("slots"), num(0), str("nodes"), arr({master})})})},
      {"odd slot list", arr({shard({num(0)}, {master})})},
      {"slot past 16383", arr({shard({num(0), num(16384)}, {master})})},
      {"negative slot", arr({shard({num(-1), num(5)}, {master})})},
      {"slot as a string", arr({shard({str("0"), num(5)}, {master})})},
      {"range backwards", arr({shard({num(9), num(5)}, {master})})},
      {"slot served twice", arr({shard({num(0), num(10), num(10), num(20)}, {master})})},
      {"slot served by two shards",
       arr({shard({num(0), num(10)}, {master}),
            shard({num(5), num(6)}, {shard_node("127.0.0.1", 7002, "master")})})},
      {"the same master twice",
       arr({shard({num(0), num(10)}, {master}), shard({num(11), num(12)}, {master})})},
      {"no master", arr({shard({num(0), num(5)}, {shard_node("127.0.0.1", 7002, "replica")})})},
      {"two masters",
       arr({shard({num(0), num(5)}, {master, shard_node("127.0.0.1", 7002, "master")})})},
      {"node not a map", arr({shard({num(0), num(5)}, {str("127.0.0.1")})})},
      {"port zero", arr({shard({num(0), num(5)}, {shard_node("h", 0, "master")})})},
      {"port too big", arr({shard({num(0), num(5)}, {shard_node("h", 65536, "master")})})},
      {"no port",
       arr({shard({num(0), num(5)}, {arr({str("ip"), str("h"), str("role"), str("master")})})})},
      {"port as a string",
       arr({shard({num(0), num(5)}, {arr({str("port"), str("7001"), str("ip"), str("h"),
                                          str("role"), str("master")})})})},
      {"a replica with a bad port",
       arr({shard({num(0), num(5)}, {master, shard_node("h", -3, "replica")})})},
  };
  for (const auto& [what, reply] : cases) expect_protocol_error(reply, true, what);
}

// A CLUSTER SLOTS range: [start, end, master, replicas...], nodes [host, port, id, metadata].
Reply slots_node(Reply host, std::int64_t port) {
  return arr(
      {std::move(host), num(port), str("8d3444f700ca7afa59206879ca6378daf2faba1e"), arr({})});
}

TEST(ClusterTopology, SlotsGroupRangesByMaster) {
  const Reply reply = arr({
      arr({num(0), num(5460), slots_node(str("127.0.0.1"), 7001),
           slots_node(str("127.0.0.1"), 7004)}),
      arr({num(5461), num(10922), slots_node(str(""), 7002)}),
      arr({num(10923), num(16000), slots_node(Reply::nil(), 7003), slots_node(str("?"), 7006)}),
      arr({num(16001), num(16383), slots_node(str("127.0.0.1"), 7001),
           slots_node(str("127.0.0.1"), 7004)}),
  });
  const ClusterTopology topology = ClusterTopology::from_slots(reply, kAsked);
  ASSERT_EQ(topology.shards().size(), 3u);
  EXPECT_EQ(topology.shards()[0],
            (ClusterShard{{"127.0.0.1", 7001}, {NodeAddress{"127.0.0.1", 7004}}}));
  EXPECT_EQ(topology.shards()[1], (ClusterShard{{"seed.example", 7002}, {}}));
  EXPECT_EQ(topology.shards()[2],
            (ClusterShard{{"seed.example", 7003}, {NodeAddress{"seed.example", 7006}}}));
  EXPECT_EQ(topology.served_slots(), std::size_t{kClusterSlots});
  EXPECT_EQ(topology.shard_of(16001), 0);
  EXPECT_EQ(topology.shard_of(16000), 2);
  EXPECT_EQ(topology.shard_of(5461), 1);
}

TEST(ClusterTopology, MalformedSlotsAreProtocolErrors) {
  const Reply master = slots_node(str("127.0.0.1"), 7001);
  const std::vector<std::pair<std::string, Reply>> cases = {
      {"not an array", Reply::error("ERR This instance has cluster support disabled")},
      {"a range that is no array", arr({num(0)})},
      {"a range without master", arr({arr({num(0), num(5)})})},
      {"slot past 16383", arr({arr({num(0), num(16384), master})})},
      {"range backwards", arr({arr({num(5), num(4), master})})},
      {"slot as a string", arr({arr({str("0"), num(4), master})})},
      {"slot served twice", arr({arr({num(0), num(5), master}),
                                 arr({num(5), num(6), slots_node(str("127.0.0.1"), 7002)})})},
      {"a node that is no array", arr({arr({num(0), num(5), str("127.0.0.1")})})},
      {"a node without port", arr({arr({num(0), num(5), arr({str("127.0.0.1")})})})},
      {"a host that is an integer", arr({arr({num(0), num(5), arr({num(1), num(7001)})})})},
      {"port zero", arr({arr({num(0), num(5), slots_node(str("h"), 0)})})},
      {"a bad replica", arr({arr({num(0), num(5), master, arr({})})})},
  };
  for (const auto& [what, reply] : cases) expect_protocol_error(reply, false, what);
}

TEST(ClusterTopology, MovedSlotGoesToAKnownOrANewMaster) {
  const Reply reply = arr({
      arr({num(0), num(9), slots_node(str("127.0.0.1"), 7001), slots_node(str("127.0.0.1"), 7004)}),
      arr({num(10), num(10), slots_node(str("127.0.0.1"), 7002)}),
      arr({num(11), num(16383), slots_node(str("127.0.0.1"), 7003)}),
  });
  ClusterTopology topology = ClusterTopology::from_slots(reply, kAsked);
  // To a known master: its shard, replicas kept.
  topology.move_slot(5, {"127.0.0.1", 7003});
  EXPECT_EQ(topology.shard_of(5), 2);
  EXPECT_EQ(topology.shards().size(), 3u);
  // To one not known yet: a new shard without replicas.
  topology.move_slot(6, {"127.0.0.1", 7009});
  ASSERT_EQ(topology.shards().size(), 4u);
  EXPECT_EQ(topology.shards()[3], (ClusterShard{{"127.0.0.1", 7009}, {}}));
  EXPECT_EQ(topology.shard_of(6), 3);
  EXPECT_EQ(topology.served_slots(), std::size_t{kClusterSlots});
  // The last slot of 7002 leaves: its shard is dropped and the later indexes shift down.
  topology.move_slot(10, {"127.0.0.1", 7001});
  ASSERT_EQ(topology.shards().size(), 3u);
  EXPECT_EQ(topology.shards()[0].master.port, 7001);
  EXPECT_EQ(topology.shards()[0].replicas.size(), 1u);
  EXPECT_EQ(topology.shards()[1].master.port, 7003);
  EXPECT_EQ(topology.shards()[2].master.port, 7009);
  EXPECT_EQ(topology.shard_of(10), 0);
  EXPECT_EQ(topology.shard_of(5), 1);
  EXPECT_EQ(topology.shard_of(6), 2);
  EXPECT_EQ(topology.shard_of(11), 1);
  EXPECT_EQ(topology.shard_of(0), 0);
  // Moving a slot where it already is changes nothing; a slot out of range is ignored.
  topology.move_slot(10, {"127.0.0.1", 7001});
  topology.move_slot(kClusterSlots, {"127.0.0.1", 7777});
  EXPECT_EQ(topology.shards().size(), 3u);
  EXPECT_EQ(topology.served_slots(), std::size_t{kClusterSlots});
  const std::vector<NodeAddress> nodes = {
      {"127.0.0.1", 7001}, {"127.0.0.1", 7003}, {"127.0.0.1", 7009}, {"127.0.0.1", 7004}};
  EXPECT_EQ(topology.nodes(), nodes);
}

TEST(ClusterTopology, MovedSlotOfAnEmptyTopologyIsServed) {
  ClusterTopology topology;
  topology.move_slot(100, {"10.0.0.5", 6379});
  EXPECT_EQ(topology.served_slots(), 1u);
  EXPECT_EQ(topology.shard_of(100), 0);
  const std::vector<NodeAddress> nodes = {{"10.0.0.5", 6379}};
  EXPECT_EQ(topology.nodes(), nodes);
}

}  // namespace
}  // namespace asyncredis::detail
