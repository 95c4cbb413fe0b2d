// Redis Cluster's hash slots: CRC16 against the specification's vector, and hash tags as the
// specification defines them (the first '{', the next '}', not empty).
#include <gtest/gtest.h>

#include <string>

#include "cluster/slot.hpp"

namespace asyncredis::detail {
namespace {

TEST(ClusterSlot, Crc16MatchesTheSpecification) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

TEST(ClusterSlot, SlotsOfKnownKeys) {
  // As CLUSTER KEYSLOT answers (redis.io's examples and redis-server 7).
  EXPECT_EQ(slot_of("foo"), 12182);
  EXPECT_EQ(slot_of("bar"), 5061);
  EXPECT_EQ(slot_of("somekey"), 11058);
  EXPECT_EQ(slot_of(""), 0);
  const std::string with_nul("a\0b", 3);
  EXPECT_LT(slot_of(with_nul), kClusterSlots);
}

TEST(ClusterSlot, HashTags) {
  EXPECT_EQ(hash_tag("{user1000}.following"), "user1000");
  EXPECT_EQ(slot_of("{user1000}.following"), slot_of("{user1000}.followers"));
  // Only the first '{' and the first '}' after it count.
  EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");  // empty tag: the whole key
  EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
  EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
  EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");  // no closing brace
  EXPECT_EQ(hash_tag("foo}bar{"), "foo}bar{");
  EXPECT_EQ(slot_of("{a}"), slot_of("a"));
}

}  // namespace
}  // namespace asyncredis::detail
