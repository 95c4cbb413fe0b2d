// Redis Cluster settings: the cluster URL both ways (from_url() and url(), redacted too),
// REDIS_CLUSTER_* variables, validate(), and that a bad value is an error naming the setting and
// the value.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "asyncredis/cluster.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/settings.hpp"
#include "unit/invalid_setting.hpp"
#include "unit/settings_round_trip.hpp"

namespace asyncredis {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;
using test::invalid_setting_message;

RedisSettings from_env_map(const Env& env) {
  return RedisSettings::from_env([&](std::string_view name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

void expect_has(const std::string& message, const std::string& part) {
  EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
}

void expect_has_all(const std::string& message, const std::vector<std::string>& parts) {
  for (const auto& part : parts) expect_has(message, part);
}

std::string url_error(const std::string& url) {
  return invalid_setting_message([&] { RedisSettings::from_url(url); });
}

RedisSettings over_cluster(std::vector<ClusterNode> nodes) {
  RedisSettings s;
  s.cluster_nodes = std::move(nodes);
  return s;
}

TEST(ClusterReadFrom, NamesAreTheUrlAndEnvironmentValues) {
  EXPECT_EQ(to_string(ReadFrom::master), "master");
  EXPECT_EQ(to_string(ReadFrom::replica_preferred), "replica_preferred");
  EXPECT_EQ(to_string(ReadFrom::replica), "replica");
  const ClusterOptions defaults;
  EXPECT_EQ(defaults.read_from, ReadFrom::master);
  EXPECT_EQ(defaults.refresh_interval, std::chrono::seconds(30));
  EXPECT_EQ(defaults.max_redirections, 5);
  EXPECT_FALSE(RedisSettings{}.is_cluster());
}

TEST(ClusterUrl, SeveralHostsAreTheSeedNodesInOrder) {
  const auto s = RedisSettings::from_url("redis://ann:s3cret@10.0.0.1:7000,node-b,[::1]:7002/0");
  ASSERT_EQ(s.cluster_nodes.size(), 3u);
  EXPECT_EQ(s.cluster_nodes[0], (ClusterNode{"10.0.0.1", 7000}));
  EXPECT_EQ(s.cluster_nodes[1], (ClusterNode{"node-b", 6379}));
  EXPECT_EQ(s.cluster_nodes[2], (ClusterNode{"::1", 7002}));
  EXPECT_TRUE(s.is_cluster());
  EXPECT_EQ(s.host, "10.0.0.1");  // host and port are the first node's
  EXPECT_EQ(s.port, 7000);
  EXPECT_EQ(s.username, "ann");
  EXPECT_EQ(s.password, "s3cret");
  EXPECT_EQ(s.cache_db, 0);
  EXPECT_FALSE(s.tls);
  EXPECT_EQ(s.cluster, ClusterOptions{});
  EXPECT_NO_THROW(s.validate());
}

TEST(ClusterUrl, RedissQueryAndNoPath) {
  const auto s = RedisSettings::from_url(
      "rediss://:pw@a:1,b:2?read_from=replica_preferred&connect_timeout=200ms&db=0");
  EXPECT_TRUE(s.tls);
  EXPECT_EQ(s.password, "pw");
  EXPECT_EQ(s.cluster_nodes, (std::vector<ClusterNode>{{"a", 1}, {"b", 2}}));
  EXPECT_EQ(s.cluster.read_from, ReadFrom::replica_preferred);
  EXPECT_EQ(s.connect_timeout, std::chrono::milliseconds(200));
  EXPECT_EQ(RedisSettings::from_url("redis://a,b").cluster_nodes.size(), 2u);
}

TEST(ClusterUrl, OneHostWithClusterYesIsOneSeedNode) {
  for (const char* yes : {"yes", "true", "1", "YES", "True"}) {
    SCOPED_TRACE(yes);
    const auto s = RedisSettings::from_url(std::string("redis://h:7000/0?cluster=") + yes);
    EXPECT_EQ(s.cluster_nodes, (std::vector<ClusterNode>{{"h", 7000}}));
    EXPECT_EQ(s.host, "h");
    EXPECT_EQ(s.port, 7000);
  }
  EXPECT_EQ(RedisSettings::from_url("redis://h?cluster=yes").cluster_nodes,
            (std::vector<ClusterNode>{{"h", 6379}}));
  EXPECT_EQ(RedisSettings::from_url("redis://[::1]:7000?cluster=1&read_from=replica").cluster,
            (ClusterOptions{.read_from = ReadFrom::replica}));
  for (const char* no : {"no", "false", "0", "No"}) {
    SCOPED_TRACE(no);
    const auto s = RedisSettings::from_url(std::string("redis://h:7000/3?cluster=") + no);
    EXPECT_FALSE(s.is_cluster());
    EXPECT_EQ(s.cache_db, 3);  // not a cluster: any database
  }
}

TEST(ClusterUrl, ReadFromTakesEachName) {
  for (const ReadFrom read_from :
       {ReadFrom::master, ReadFrom::replica_preferred, ReadFrom::replica}) {
    const std::string url = "redis://a,b?read_from=" + std::string(to_string(read_from));
    EXPECT_EQ(RedisSettings::from_url(url).cluster.read_from, read_from) << url;
  }
}

TEST(ClusterUrl, OnlyDatabaseZero) {
  for (const char* url : {"redis://a:1,b:2/3", "redis://a:1,b:2?db=3", "redis://h/3?cluster=yes",
                          "redis://h?db=3&cluster=yes"}) {
    SCOPED_TRACE(url);
    const auto message = url_error(url);
    expect_has(message, "REDIS URL database");
    expect_has(message, "'3'");
    expect_has(message, "only database 0");
  }
  EXPECT_EQ(RedisSettings::from_url("redis://a:1,b:2/0").cache_db, 0);
}

TEST(ClusterUrl, ErrorsNameThePartAndTheValue) {
  // {URL, what its error message holds}
  const std::pair<const char*, std::vector<std::string>> cases[] = {
      {"redis://a:1,b:99999", {"REDIS URL cluster nodes", "'b:99999'"}},
      {"redis://a:1,,b:2", {"REDIS URL cluster nodes", "empty address"}},
      {"redis://a:1,", {"empty address"}},
      {"redis://,a:1", {"empty address"}},
      {"redis://a:1,b%2Fc:2", {"cluster nodes", "'b/c'"}},
      {"redis://a,[::1:2", {"cluster nodes", "no closing ']'"}},
      {"redis://a,b?read_from=slave",
       {"REDIS URL read_from", "'slave'", "master, replica_preferred or replica"}},
      {"redis://h?read_from=replica", {"REDIS URL read_from", "Redis Cluster only"}},
      {"redis://h?cluster=maybe", {"REDIS URL cluster", "'maybe'"}},
      {"redis://a,b?cluster=no", {"REDIS URL cluster", "several hosts"}},
      {"redis://h?cluster=yes&cluster=no", {"'cluster' is given twice"}},
      {"unix:///tmp/redis.sock?cluster=yes", {"REDIS URL cluster", "unix:// URL cannot be"}},
      {"redis-sentinel://s1,s2?cluster=yes#m", {"REDIS URL cluster", "redis-sentinel URL cannot"}},
      {"redis://h?nodes=a", {"'nodes'", "cluster, read_from"}},  // the accepted list
  };
  for (const auto& [url, parts] : cases) {
    SCOPED_TRACE(url);
    expect_has_all(url_error(url), parts);
  }
}

TEST(ClusterUrl, SeveralSentinelsStaySentinels) {
  const auto s = RedisSettings::from_url("redis-sentinel://a:1,b:2/0#m");
  EXPECT_FALSE(s.is_cluster());
  EXPECT_EQ(s.sentinel.sentinels.size(), 2u);
}

TEST(ClusterUrl, APasswordIsNotShownInANodeError) {
  const auto message = url_error("redis://u:Xq7Zk9@a:1,b:0");
  expect_has(message, "'b:0'");
  EXPECT_EQ(message.find("Xq7Zk9"), std::string::npos) << message;
}

TEST(ClusterUrlWrite, WritesEveryNodeWithItsPort) {
  RedisSettings s = over_cluster({{"10.0.0.1", 7000}, {"node-b", 6379}, {"fe80::1%eth0", 7}});
  s.username = "ann";
  s.password = "p@ss#w/rd";
  s.host = "not-written";
  s.unix_socket = "/tmp/not-written.sock";  // replaced by the nodes, as host and port are
  EXPECT_EQ(s.url(), "redis://ann:p%40ss%23w%2Frd@10.0.0.1:7000,node-b:6379,[fe80::1%25eth0]:7/0");
  const auto back = RedisSettings::from_url(s.url());
  EXPECT_EQ(back.cluster_nodes, s.cluster_nodes);
  EXPECT_EQ(back.username, s.username);
  EXPECT_EQ(back.password, s.password);
  EXPECT_EQ(back.host, "10.0.0.1");
  EXPECT_EQ(back.unix_socket, "");
  s.tls = true;
  s.cluster.read_from = ReadFrom::replica;
  EXPECT_EQ(s.url(),
            "rediss://ann:p%40ss%23w%2Frd@10.0.0.1:7000,node-b:6379,[fe80::1%25eth0]:7/0"
            "?read_from=replica");
}

TEST(ClusterUrlWrite, OneNodeIsWrittenWithClusterYes) {
  RedisSettings s = over_cluster({{"h", 7000}});
  EXPECT_EQ(s.url(), "redis://h:7000/0?cluster=yes");
  s.cluster.read_from = ReadFrom::replica_preferred;
  EXPECT_EQ(s.url(), "redis://h:7000/0?cluster=yes&read_from=replica_preferred");
  const auto back = RedisSettings::from_url(s.url());
  EXPECT_EQ(back.cluster_nodes, s.cluster_nodes);
  EXPECT_EQ(back.cluster, s.cluster);
}

TEST(ClusterUrlWrite, RoundTrips) {
  // {what is read, what url() writes}
  const std::pair<const char*, const char*> cases[] = {
      {"redis://a:7000,b:7001", "redis://a:7000,b:7001/0"},
      {"redis://a,b/0", "redis://a:6379,b:6379/0"},
      {"REDIS://a,[::1]:2,[2001:db8::7]:3,10.1.2.3:4?db=0",
       "redis://a:6379,[::1]:2,[2001:db8::7]:3,10.1.2.3:4/0"},
      {"rediss://u:p%40w@a:1,b:2?read_from=replica",
       "rediss://u:p%40w@a:1,b:2/0?read_from=replica"},
      {"redis://a:1,b:2?read_from=master", "redis://a:1,b:2/0"},
      {"redis://h?cluster=true", "redis://h:6379/0?cluster=yes"},
      {"redis://:pw@h:7000/0?read_from=replica_preferred&cluster=1",
       "redis://:pw@h:7000/0?cluster=yes&read_from=replica_preferred"},
      {"redis://[fe80::1%25a%2cb%5D]:1,h:2", "redis://[fe80::1%25a%2Cb%5D]:1,h:2/0"},
  };
  for (const auto& [read, written] : cases) test::expect_url_round_trip(read, written);
}

TEST(ClusterUrlWrite, UrlWithAnotherDbIsRefusedWhenReadBack) {
  // Pointing a service at database 0 when it asked for another would mix its keys with the
  // cache's: the database is written as asked, and reading it back says why it cannot be.
  const RedisSettings s = over_cluster({{"a", 1}, {"b", 2}});
  EXPECT_EQ(s.url(0), s.url());
  EXPECT_EQ(s.url(2), "redis://a:1,b:2/2");
  expect_has(url_error(s.url(2)), "only database 0");
}

TEST(ClusterUrlWrite, WhatTheUrlCannotCarryGoesBackToItsDefault) {
  RedisSettings s = over_cluster({{"a", 1}, {"b", 2}});
  s.cluster.refresh_interval = std::chrono::milliseconds(0);
  s.cluster.max_redirections = 9;
  const auto back = RedisSettings::from_url(s.url());
  EXPECT_EQ(back.cluster, ClusterOptions{});
}

TEST(ClusterUrlWrite, RedactedUrlHidesThePasswordOnly) {
  RedisSettings s = over_cluster({{"a", 1}, {"b", 2}});
  s.username = "ann";
  s.password = "s3cret";
  s.cluster.read_from = ReadFrom::replica;
  EXPECT_EQ(s.redacted_url(), "redis://ann:***@a:1,b:2/0?read_from=replica");
  const auto back = RedisSettings::from_url(s.redacted_url());
  EXPECT_EQ(back.password, "***");
  EXPECT_EQ(back.cluster_nodes, s.cluster_nodes);
  EXPECT_EQ(over_cluster({{"h", 1}}).redacted_url(), "redis://h:1/0?cluster=yes");
}

TEST(ClusterUrlWrite, AHostSetInCodeNeverAddsANode) {
  // Unescaped, "h,evil" would read back as two nodes and "h@x" as user h at host x.
  for (const char* host : {"h,evil:1", "h@x", "h/1", "h?cluster=no", "h%41"}) {
    SCOPED_TRACE(host);
    for (const auto& nodes :
         {std::vector<ClusterNode>{{host, 1}}, std::vector<ClusterNode>{{"a", 1}, {host, 1}}}) {
      const RedisSettings s = over_cluster(nodes);
      expect_has(url_error(s.url()), "host");
    }
  }
}

TEST(ClusterEnv, ReadsTheVariables) {
  const auto s = from_env_map({{"REDIS_CLUSTER_NODES", "a:7000,[::1]:7001,b"},
                               {"REDIS_CLUSTER_READ_FROM", "replica"},
                               {"REDIS_CLUSTER_REFRESH_INTERVAL_MS", "0"},
                               {"REDIS_CLUSTER_MAX_REDIRECTIONS", "3"},
                               {"REDIS_PASSWORD", "pw"},
                               {"REDIS_TLS", "true"}});
  EXPECT_EQ(s.cluster_nodes, (std::vector<ClusterNode>{{"a", 7000}, {"::1", 7001}, {"b", 6379}}));
  EXPECT_EQ(s.host, "a");
  EXPECT_EQ(s.port, 7000);
  EXPECT_EQ(s.cluster.read_from, ReadFrom::replica);
  EXPECT_EQ(s.cluster.refresh_interval, std::chrono::milliseconds(0));
  EXPECT_EQ(s.cluster.max_redirections, 3);
  EXPECT_EQ(s.password, "pw");
  EXPECT_TRUE(s.tls);
  EXPECT_NO_THROW(s.validate());
  EXPECT_EQ(s.url(), "rediss://:pw@a:7000,[::1]:7001,b:6379/0?read_from=replica");
}

TEST(ClusterEnv, TheNodesCanComeFromRedisUrlAndTheVariablesWin) {
  const auto from_url = from_env_map({{"REDIS_URL", "redis://h1:1,h2:2?read_from=replica"}});
  EXPECT_EQ(from_url.cluster_nodes, (std::vector<ClusterNode>{{"h1", 1}, {"h2", 2}}));
  EXPECT_EQ(from_url.cluster.read_from, ReadFrom::replica);
  const auto overridden = from_env_map({{"REDIS_URL", "redis://h1:1,h2:2?read_from=replica"},
                                        {"REDIS_CLUSTER_NODES", "n:5"},
                                        {"REDIS_CLUSTER_READ_FROM", "master"}});
  EXPECT_EQ(overridden.cluster_nodes, (std::vector<ClusterNode>{{"n", 5}}));
  EXPECT_EQ(overridden.cluster.read_from, ReadFrom::master);
  EXPECT_EQ(overridden.host, "n");
  const auto url_then_db = from_env_map({{"REDIS_URL", "redis://h1,h2"}, {"REDIS_CACHE_DB", "2"}});
  expect_has(invalid_setting_message([&] { url_then_db.validate(); }), "cache_db");
}

TEST(ClusterEnv, BadValuesNameTheVariableAndValue) {
  const std::pair<Env, std::vector<std::string>> cases[] = {
      {{{"REDIS_CLUSTER_NODES", "a:1,b:0"}}, {"REDIS_CLUSTER_NODES", "'b:0'"}},
      {{{"REDIS_CLUSTER_NODES", "a:1,,b"}}, {"REDIS_CLUSTER_NODES", "empty address"}},
      {{{"REDIS_CLUSTER_NODES", "a:1/3"}}, {"REDIS_CLUSTER_NODES", "'a:1/3'", "not a host:port"}},
      {{{"REDIS_CLUSTER_NODES", "u:p@a:1"}}, {"REDIS_CLUSTER_NODES", "not a host:port"}},
      {{{"REDIS_CLUSTER_NODES", "a?cluster=yes"}}, {"REDIS_CLUSTER_NODES", "not a host:port"}},
      {{{"REDIS_CLUSTER_READ_FROM", "slave"}},
       {"REDIS_CLUSTER_READ_FROM", "'slave'", "master, replica_preferred or replica"}},
      {{{"REDIS_CLUSTER_REFRESH_INTERVAL_MS", "-1"}},
       {"REDIS_CLUSTER_REFRESH_INTERVAL_MS", "'-1'"}},
      {{{"REDIS_CLUSTER_MAX_REDIRECTIONS", "0"}}, {"REDIS_CLUSTER_MAX_REDIRECTIONS", "'0'"}},
      {{{"REDIS_CLUSTER_MAX_REDIRECTIONS", "99999999999"}},
       {"REDIS_CLUSTER_MAX_REDIRECTIONS", "'99999999999'"}},
      {{{"REDIS_URL", "redis://a,b/4"}}, {"REDIS_URL", "only database 0"}},
  };
  for (const auto& item : cases) {
    // Not a structured binding: clang 14 cannot capture one in a lambda.
    const auto& env = item.first;
    SCOPED_TRACE(env.begin()->second);
    expect_has_all(invalid_setting_message([&] { from_env_map(env); }), item.second);
  }
}

TEST(ClusterValidate, NamesTheFieldAndTheValue) {
  RedisSettings s = over_cluster({{"a", 1}, {"", 2}});
  expect_has(invalid_setting_message([&] { s.validate(); }), "RedisSettings.cluster_nodes");
  s.cluster_nodes[1] = {"b", 0};
  const auto port = invalid_setting_message([&] { s.validate(); });
  expect_has(port, "RedisSettings.cluster_nodes");
  expect_has(port, "'b'");
  expect_has(port, "port 0");
  s.cluster_nodes[1].port = 2;
  s.host = "";  // not used over a cluster
  EXPECT_NO_THROW(s.validate());

  s.sentinel.sentinels.push_back({"s", 26379});
  s.sentinel.master_name = "m";
  const auto sentinel = invalid_setting_message([&] { s.validate(); });
  expect_has(sentinel, "cluster_nodes");
  expect_has(sentinel, "sentinel.sentinels");
  s.sentinel = {};

  s.unix_socket = "/tmp/redis.sock";
  const auto socket = invalid_setting_message([&] { s.validate(); });
  expect_has(socket, "cluster_nodes");
  expect_has(socket, "unix_socket '/tmp/redis.sock'");
  s.unix_socket.clear();

  s.cache_db = 3;
  const auto db = invalid_setting_message([&] { s.validate(); });
  expect_has(db, "RedisSettings.cache_db");
  expect_has(db, "3");
  expect_has(db, "only database 0");
  s.cache_db = 0;
  EXPECT_NO_THROW(s.validate());
}

TEST(ClusterValidate, OptionsAreCheckedWithOrWithoutNodes) {
  for (RedisSettings s : {RedisSettings{}, over_cluster({{"a", 1}})}) {
    s.cluster.max_redirections = 0;
    const auto hops = invalid_setting_message([&] { s.validate(); });
    expect_has(hops, "RedisSettings.cluster.max_redirections");
    expect_has(hops, "0 must be >= 1");
    s.cluster.max_redirections = 1;
    s.cluster.refresh_interval = std::chrono::milliseconds(-5);
    const auto refresh = invalid_setting_message([&] { s.validate(); });
    expect_has(refresh, "RedisSettings.cluster.refresh_interval");
    expect_has(refresh, "-5ms");
    s.cluster.refresh_interval = std::chrono::milliseconds(0);
    s.cluster.read_from = static_cast<ReadFrom>(7);
    expect_has(invalid_setting_message([&] { s.validate(); }), "RedisSettings.cluster.read_from");
    s.cluster.read_from = ReadFrom::replica;
    EXPECT_NO_THROW(s.validate());
  }
}

}  // namespace
}  // namespace asyncredis
