// SyncCache and the blocking cached(): the JSON cache for a SyncClient, over a real server.
#include <atomic>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "asyncredis/cache/sync_cache.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;

class SyncCacheTest : public test::SharedServerTest {};

TEST_F(SyncCacheTest, SetGetDelExistsExpire) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  cache.set("user:1", nlohmann::json{{"name", "ada"}}, 10s);
  const auto got = cache.get("user:1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ((*got)["name"], "ada");
  EXPECT_TRUE(cache.exists("user:1"));
  EXPECT_TRUE(cache.expire("user:1", 5s));
  EXPECT_EQ(cache.mget<nlohmann::json>({"user:1", "user:2"}).size(), 2u);
  EXPECT_TRUE(cache.del("user:1"));
  EXPECT_FALSE(cache.del("user:1"));
  EXPECT_EQ(cache.get("user:1"), std::nullopt);
  EXPECT_EQ(cache.stats().misses, 2u);  // user:2 in the MGET, user:1 after the DEL
}

TEST_F(SyncCacheTest, ValueThatIsNotTheTypeThrowsDecodeError) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  cache.set("k", std::string("text"));
  try {
    cache.get<int>("k");
    FAIL() << "a string is not an int";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::decode_error);
  }
}

TEST_F(SyncCacheTest, ComputationMayUseTheSyncClient) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  redis.set("source", "7");
  const int value =
      cache.get_or_set("derived", 10s, [&] { return std::stoi(*redis.get("source")) * 6; });
  EXPECT_EQ(value, 42);
}

TEST_F(SyncCacheTest, ComputationThatThrowsReachesTheCallerAndStoresNothing) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  auto failing = []() -> int { throw std::runtime_error("backend down"); };
  EXPECT_THROW(cache.get_or_set("k", 10s, failing), std::runtime_error);
  EXPECT_FALSE(cache.exists("k"));
}

TEST_F(SyncCacheTest, CachedMemoizesAndInvalidates) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  std::atomic<int> calls{0};
  auto square = cached(cache, "square", 10s, [&](int x) {
    ++calls;
    return x * x;
  });
  EXPECT_EQ(square(7), 49);
  EXPECT_EQ(square(7), 49);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_TRUE(square.invalidate(7));
  EXPECT_EQ(square(7), 49);
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(square.key_for(7).rfind("square:", 0), 0u);
}

TEST_F(SyncCacheTest, NamespacesAreSeparate) {
  SyncClient redis(server_->settings());
  SyncCache cache(redis);
  SyncCache tenant = cache.in_namespace("tenant-a");
  tenant.set("k", 1);
  EXPECT_EQ(cache.get<int>("k"), std::nullopt);
  EXPECT_EQ(tenant.get<int>("k"), 1);
  tenant.invalidate_namespace("tenant-a");
  EXPECT_EQ(tenant.get<int>("k"), std::nullopt);
  cache.set("a:1", 1);
  cache.set("a:2", 2);
  EXPECT_EQ(cache.delete_pattern("a:*"), 2u);
}

TEST_F(SyncCacheTest, ZeroComputeThreadsIsAnError) {
  SyncClient redis(server_->settings());
  try {
    SyncCache cache(redis, {}, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("compute_threads"), std::string::npos);
  }
}

}  // namespace
}  // namespace asyncredis
