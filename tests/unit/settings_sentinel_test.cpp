// Sentinel settings: the redis-sentinel:// URL, REDIS_SENTINELS and friends, validate(), and
// that a bad value is an error naming the setting and the value.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "unit/invalid_setting.hpp"

namespace asyncredis {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

RedisSettings from_env_map(const Env& env) {
  return RedisSettings::from_env([&](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

using test::invalid_setting_message;

void expect_has(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

TEST(SentinelUrl, ReadsSentinelsDatabaseCredentialsAndMaster) {
  const auto s = RedisSettings::from_url(
      "redis-sentinel://ann:s3cret@10.0.0.1:26380,sentinel-b,[::1]:26381/4#mymaster");
  ASSERT_EQ(s.sentinel.sentinels.size(), 3u);
  EXPECT_EQ(s.sentinel.sentinels[0], (SentinelAddress{"10.0.0.1", 26380}));
  EXPECT_EQ(s.sentinel.sentinels[1], (SentinelAddress{"sentinel-b", 26379}));
  EXPECT_EQ(s.sentinel.sentinels[2], (SentinelAddress{"::1", 26381}));
  EXPECT_EQ(s.sentinel.master_name, "mymaster");
  EXPECT_EQ(s.username, "ann");  // the data nodes' credentials
  EXPECT_EQ(s.password, "s3cret");
  EXPECT_FALSE(s.sentinel.password.has_value());
  EXPECT_EQ(s.cache_db, 4);
  EXPECT_FALSE(s.tls);
  EXPECT_FALSE(s.sentinel.tls);
  EXPECT_TRUE(s.sentinel.enabled());
  EXPECT_NO_THROW(s.validate());
}

TEST(SentinelUrl, PasswordOnlyQueryAndTls) {
  const auto s =
      RedisSettings::from_url("rediss-sentinel://:pw@h1:1,h2:2?connect_timeout=200ms#svc");
  EXPECT_FALSE(s.username.has_value());
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.connect_timeout, std::chrono::milliseconds(200));
  EXPECT_TRUE(s.tls);
  EXPECT_TRUE(s.sentinel.tls);
  EXPECT_EQ(s.sentinel.master_name, "svc");
}

TEST(SentinelUrl, ErrorsNameThePartAndTheValue) {
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h:1/0"); }),
             "master after '#'");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h:1#"); }),
             "master after '#'");
  const auto bad_port =
      invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h:1,h2:99999#m"); });
  expect_has(bad_port, "sentinels");
  expect_has(bad_port, "'99999'");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h:1,#m"); }),
             "empty address");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel:///0#m"); }),
             "none given");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h/x#m"); }),
             "database");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("sentinel://h#m"); }),
             "redis-sentinel");
}

// A password holding an unescaped '#' (or '/') would be split off into the master name or the
// database; the error must say how to escape it without showing any of it (found by url_fuzz).
TEST(SentinelUrl, APasswordSplitOffByHashIsNotShown) {
  const auto message = invalid_setting_message(
      [] { RedisSettings::from_url("redis-sentinel://u:Xq7#Zk9@h:1#master"); });
  expect_has(message, "percent-escape");
  EXPECT_EQ(message.find("Xq7"), std::string::npos) << message;
  EXPECT_EQ(message.find("Zk9"), std::string::npos) << message;
  const auto slash = invalid_setting_message(
      [] { RedisSettings::from_url("redis-sentinel://5:@u//secret#a@o9he"); });
  EXPECT_EQ(slash.find("secret"), std::string::npos) << slash;
}

TEST(SentinelEnv, ReadsTheVariables) {
  const auto s = from_env_map({{"REDIS_SENTINELS", "a:26379,b:26390"},
                               {"REDIS_SENTINEL_MASTER", "cache"},
                               {"REDIS_SENTINEL_PASSWORD", "spw"},
                               {"REDIS_SENTINEL_USERNAME", "sentry"},
                               {"REDIS_SENTINEL_TLS", "true"},
                               {"REDIS_SENTINEL_REPLICAS", "1"},
                               {"REDIS_PASSWORD", "dpw"}});
  ASSERT_EQ(s.sentinel.sentinels.size(), 2u);
  EXPECT_EQ(s.sentinel.sentinels[1], (SentinelAddress{"b", 26390}));
  EXPECT_EQ(s.sentinel.master_name, "cache");
  EXPECT_EQ(s.sentinel.password, "spw");
  EXPECT_EQ(s.sentinel.username, "sentry");
  EXPECT_TRUE(s.sentinel.tls);
  EXPECT_TRUE(s.sentinel.replicas);
  EXPECT_EQ(s.password, "dpw");
  EXPECT_NO_THROW(s.validate());
}

TEST(SentinelEnv, TheUrlCanComeFromRedisUrl) {
  const auto s = from_env_map({{"REDIS_URL", "redis-sentinel://h:5#m"}});
  EXPECT_EQ(s.sentinel.sentinels.at(0), (SentinelAddress{"h", 5}));
  EXPECT_EQ(s.sentinel.master_name, "m");
}

TEST(SentinelEnv, BadValuesNameTheVariableAndValue) {
  const auto port = invalid_setting_message([] {
    from_env_map({{"REDIS_SENTINELS", "a:0"}, {"REDIS_SENTINEL_MASTER", "m"}});
  });
  expect_has(port, "REDIS_SENTINELS");
  expect_has(port, "'a:0'");
  const auto no_master = invalid_setting_message([] {
    from_env_map({{"REDIS_SENTINELS", "a:1"}});
  });
  expect_has(no_master, "REDIS_SENTINEL_MASTER");
  const auto tls = invalid_setting_message([] {
    from_env_map(
        {{"REDIS_SENTINELS", "a:1"}, {"REDIS_SENTINEL_MASTER", "m"}, {"REDIS_SENTINEL_TLS", "x"}});
  });
  expect_has(tls, "REDIS_SENTINEL_TLS");
  expect_has(tls, "'x'");
}

TEST(SentinelValidate, NamesTheField) {
  RedisSettings s;
  s.sentinel.sentinels.push_back({"h", 26379});
  expect_has(invalid_setting_message([&] { s.validate(); }), "sentinel.master_name");
  s.sentinel.master_name = "my master";
  expect_has(invalid_setting_message([&] { s.validate(); }), "'my master'");
  s.sentinel.master_name = "m";
  s.sentinel.sentinels.push_back({"h2", 0});
  expect_has(invalid_setting_message([&] { s.validate(); }), "sentinel.sentinels");
  s.sentinel.sentinels.pop_back();
  s.sentinel.tls_options.min_version = "1.0";
  expect_has(invalid_setting_message([&] { s.validate(); }), "sentinel.tls_options.min_version");
  s.sentinel.tls_options.min_version = "1.3";
  EXPECT_NO_THROW(s.validate());
}

}  // namespace
}  // namespace asyncredis
