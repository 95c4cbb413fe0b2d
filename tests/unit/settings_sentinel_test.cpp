// Sentinel settings: the redis-sentinel:// URL both ways (from_url() and url()), REDIS_SENTINELS
// and friends, validate(), and that a bad value is an error naming the setting and the value.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "unit/invalid_setting.hpp"
#include "unit/settings_round_trip.hpp"

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

RedisSettings over_sentinels(std::vector<SentinelAddress> sentinels, std::string master) {
  RedisSettings s;
  s.sentinel.sentinels = std::move(sentinels);
  s.sentinel.master_name = std::move(master);
  return s;
}

TEST(SentinelUrlWrite, WritesEverySentinelTheDatabaseAndTheMaster) {
  RedisSettings s = over_sentinels(
      {{"10.0.0.1", 26379}, {"sentinel-b", 26380}, {"::1", 26381}, {"fe80::1%eth0", 7}},
      "mymaster");
  s.username = "ann";
  s.password = "p@ss#w/rd:?";
  s.cache_db = 4;
  s.host = "ignored-over-sentinel";
  const std::string url = s.url();
  EXPECT_EQ(
      url,
      "redis-sentinel://ann:p%40ss%23w%2Frd%3A%3F@10.0.0.1:26379,sentinel-b:26380,[::1]:26381,"
      "[fe80::1%25eth0]:7/4#mymaster");
  const auto back = RedisSettings::from_url(url);
  EXPECT_EQ(back.sentinel, s.sentinel);
  EXPECT_EQ(back.username, s.username);
  EXPECT_EQ(back.password, s.password);
  EXPECT_EQ(back.cache_db, 4);
  EXPECT_EQ(back.host, "localhost");  // host and port are not the sentinels' business
  EXPECT_NO_THROW(back.validate());
}

TEST(SentinelUrlWrite, RoundTrips) {
  // {what is read, what url() writes}
  const std::pair<const char*, const char*> cases[] = {
      {"redis-sentinel://h:26379/0#m", "redis-sentinel://h:26379/0#m"},
      {"redis-sentinel://a:1,b:2,c:3,[::1]:4,[2001:db8::7]:5,10.1.2.3:6/15#svc",
       "redis-sentinel://a:1,b:2,c:3,[::1]:4,[2001:db8::7]:5,10.1.2.3:6/15#svc"},
      {"redis-sentinel://[fe80::1%25eth0],[fe80::2%25a%2cb%5D]:2#m",
       "redis-sentinel://[fe80::1%25eth0]:26379,[fe80::2%25a%2Cb%5D]:2/0#m"},
      {"REDISS-SENTINEL://h1,h2:2/3#cache", "rediss-sentinel://h1:26379,h2:2/3#cache"},
      {"redis-sentinel://ann:p%40ss%23w%2Frd%3fx:y%25z%20@h:1/2#m",
       "redis-sentinel://ann:p%40ss%23w%2Frd%3Fx%3Ay%25z%20@h:1/2#m"},
      {"redis-sentinel://:only%23password@h:1#m", "redis-sentinel://:only%23password@h:1/0#m"},
      {"redis-sentinel://user-only@h:1/0#m", "redis-sentinel://user-only@h:1/0#m"},
      {"redis-sentinel://a,b?db=5#m", "redis-sentinel://a:26379,b:26379/5#m"},
      {"redis-sentinel://h:1#a%23b%25c%40d%2fe%3Ff:g",
       "redis-sentinel://h:1/0#a%23b%25c%40d/e?f:g"},
      {"redis-sentinel://h:1#caf%c3%a9", "redis-sentinel://h:1/0#caf%C3%A9"},
  };
  for (const auto& [read, written] : cases) test::expect_url_round_trip(read, written);
}

TEST(SentinelUrlWrite, MasterNamesWithReservedCharactersRoundTrip) {
  for (const char* name : {"a#b", "100%", "svc@dc1", "a/b", "what?", "x%23y", "a:b,c", "é"}) {
    SCOPED_TRACE(name);
    const RedisSettings s = over_sentinels({{"h", 1}}, name);
    const auto back = RedisSettings::from_url(s.url());
    EXPECT_EQ(back.sentinel.master_name, name) << s.url();
  }
  EXPECT_EQ(over_sentinels({{"h", 1}}, "a#b%c@d").url(), "redis-sentinel://h:1/0#a%23b%25c%40d");
  // Characters that mean nothing after the '#' are kept as they are.
  EXPECT_EQ(over_sentinels({{"h", 1}}, "my-master_1.a:b/c?d").url(),
            "redis-sentinel://h:1/0#my-master_1.a:b/c?d");
}

TEST(SentinelUrlWrite, TheMasterNameIsPercentDecoded) {
  EXPECT_EQ(RedisSettings::from_url("redis-sentinel://h#a%23b%25c%40d").sentinel.master_name,
            "a#b%c@d");
  const auto bad =
      invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h:1/0#ab%zz"); });
  expect_has(bad, "master name");
  expect_has(bad, "'%zz'");
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h#m%4"); }),
             "bad percent-escape");
  // Decoded, a space is still no master name the sentinels know.
  expect_has(invalid_setting_message([] { RedisSettings::from_url("redis-sentinel://h#a%20b"); }),
             "sentinel.master_name");
}

TEST(SentinelUrlWrite, TlsToEitherSideWritesRedissSentinel) {
  RedisSettings s = over_sentinels({{"h", 1}}, "m");
  EXPECT_TRUE(s.url().starts_with("redis-sentinel://")) << s.url();
  s.tls = true;
  EXPECT_TRUE(s.url().starts_with("rediss-sentinel://")) << s.url();
  s.tls = false;
  s.sentinel.tls = true;  // never written as a URL that turns TLS off
  EXPECT_TRUE(s.url().starts_with("rediss-sentinel://")) << s.url();
  const auto back = RedisSettings::from_url(s.url());
  EXPECT_TRUE(back.tls);
  EXPECT_TRUE(back.sentinel.tls);
}

TEST(SentinelUrlWrite, UrlWithDbPicksTheDatabaseOnly) {
  RedisSettings s = over_sentinels({{"a", 1}, {"b", 2}}, "m");
  s.password = "pw";
  s.cache_db = 3;
  EXPECT_EQ(s.url(5), "redis-sentinel://:pw@a:1,b:2/5#m");
  EXPECT_EQ(s.url(0), "redis-sentinel://:pw@a:1,b:2/0#m");
  EXPECT_EQ(s.url(), "redis-sentinel://:pw@a:1,b:2/3#m");
  const auto back = RedisSettings::from_url(s.url(5));
  EXPECT_EQ(back.cache_db, 5);
  EXPECT_EQ(back.sentinel, s.sentinel);
  EXPECT_EQ(back.password, "pw");
}

TEST(SentinelUrlWrite, RedactedUrlHidesThePasswordOnly) {
  RedisSettings s = over_sentinels({{"a", 1}}, "m");
  s.username = "ann";
  s.password = "s3cret";
  EXPECT_EQ(s.redacted_url(), "redis-sentinel://ann:***@a:1/0#m");
}

TEST(SentinelUrlWrite, WhatTheUrlCannotCarryGoesBackToItsDefault) {
  RedisSettings s = over_sentinels({{"a", 1}}, "m");
  s.sentinel.password = "sentinel-pw";
  s.sentinel.username = "sentry";
  s.sentinel.replicas = true;
  s.sentinel.tls_options.server_name = "sentinels.example";
  s.unix_socket = "/tmp/redis.sock";  // replaced by the sentinels, as host and port are
  const std::string url = s.url();
  EXPECT_EQ(url, "redis-sentinel://a:1/0#m");
  EXPECT_EQ(url.find("sentinel-pw"), std::string::npos);
  const auto back = RedisSettings::from_url(url);
  const SentinelSettings defaults;
  EXPECT_EQ(back.sentinel.password, defaults.password);
  EXPECT_EQ(back.sentinel.username, defaults.username);
  EXPECT_EQ(back.sentinel.replicas, defaults.replicas);
  EXPECT_EQ(back.sentinel.tls_options, defaults.tls_options);
  EXPECT_EQ(back.unix_socket, "");
}

TEST(SentinelUrlWrite, AHostSetInCodeNeverAddsASentinel) {
  // Unescaped, "h,evil" would read back as two sentinels and "h@x" as user h at host x.
  for (const char* host : {"h,evil:1", "h@x", "h/1", "h#x", "h%41"}) {
    SCOPED_TRACE(host);
    const RedisSettings s = over_sentinels({{host, 1}}, "m");
    expect_has(invalid_setting_message([&] { RedisSettings::from_url(s.url()); }), "sentinels");
  }
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

TEST(SentinelEnv, UrlOfSettingsFromTheVariablesKeepsTheSentinels) {
  // A service that read its settings from the environment and hands on url() (to a child
  // process, say) must hand on the sentinels, not REDIS_HOST.
  const auto s = from_env_map({{"REDIS_SENTINELS", "a:26379,[::1]:26390"},
                               {"REDIS_SENTINEL_MASTER", "cache#1"},
                               {"REDIS_HOST", "not-used"},
                               {"REDIS_PASSWORD", "p#w"},
                               {"REDIS_SENTINEL_PASSWORD", "spw"}});
  EXPECT_EQ(s.url(), "redis-sentinel://:p%23w@a:26379,[::1]:26390/0#cache%231");
  const auto back = RedisSettings::from_url(s.url());
  EXPECT_EQ(back.sentinel.sentinels, s.sentinel.sentinels);
  EXPECT_EQ(back.sentinel.master_name, "cache#1");
  EXPECT_EQ(back.password, "p#w");
}

TEST(SentinelEnv, BadValuesNameTheVariableAndValue) {
  const auto port = invalid_setting_message([] {
    from_env_map({{"REDIS_SENTINELS", "a:0"}, {"REDIS_SENTINEL_MASTER", "m"}});
  });
  expect_has(port, "REDIS_SENTINELS");
  expect_has(port, "'a:0'");
  // An address is a host and a port: a query (or a user, or a database) is refused, not ignored.
  const auto query = invalid_setting_message([] {
    from_env_map({{"REDIS_SENTINELS", "a:1?cluster=yes"}, {"REDIS_SENTINEL_MASTER", "m"}});
  });
  expect_has(query, "REDIS_SENTINELS");
  expect_has(query, "not a host:port");
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
