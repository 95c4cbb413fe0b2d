// Server commands (INFO, DBSIZE, CLIENT, CONFIG) against a real redis-server.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/commands_test.hpp"

namespace asyncredis {
namespace {

using test::use_awaitable;
namespace asio = boost::asio;

class ServerCommandsTest : public test::CommandsTest {};

TEST_F(ServerCommandsTest, InfoIsParsedIntoSections) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    co_await c.set("k", "v", use_awaitable);
    ServerInfo all = co_await c.info(use_awaitable);
    EXPECT_TRUE(all["server"]["redis_version"].starts_with("7.")) << all["server"]["redis_version"];
    EXPECT_TRUE(all.contains("memory"));
    EXPECT_FALSE(all["clients"]["connected_clients"].empty());
    ServerInfo keyspace = co_await c.info("keyspace", use_awaitable);
    EXPECT_EQ(keyspace.size(), 1u);
    EXPECT_TRUE(keyspace["keyspace"]["db0"].starts_with("keys=1,")) << keyspace["keyspace"]["db0"];
    auto empty1 = co_await c.info("nosuchsection", use_awaitable);
    EXPECT_TRUE(empty1.empty());
  });
}

TEST_F(ServerCommandsTest, DbsizeCountsKeys) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    EXPECT_EQ(co_await c.dbsize(use_awaitable), 0);
    co_await c.set("a", "1", use_awaitable);
    co_await c.sadd("b", "1", use_awaitable);
    EXPECT_EQ(co_await c.dbsize(use_awaitable), 2);
  });
}

TEST_F(ServerCommandsTest, ClientSetnameListAndKill) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    Lease lease = co_await c.lease(use_awaitable);
    co_await lease.client_setname("typed-victim", use_awaitable);
    std::vector<ClientInfo> clients = co_await c.client_list(use_awaitable);
    auto victim = std::find_if(clients.begin(), clients.end(), [](const ClientInfo& client) {
      return client.at("name") == "typed-victim";
    });
    CO_ASSERT_TRUE(victim != clients.end())
    const std::int64_t id = std::stoll(victim->at("id"));
    EXPECT_EQ(co_await c.client_kill(id, use_awaitable), 1);
    auto r1 = co_await c.client_kill(id, use_awaitable);
    EXPECT_EQ(r1, 0);  // gone lease.release();
    auto spaced = c.client_setname("has spaces");
    co_await test::expect_server_error(spaced, "ERR Client names cannot contain spaces");
  });
}

TEST_F(ServerCommandsTest, ConfigGetAndSet) {
  with_client([](RedisClient& c) -> asio::awaitable<void> {
    auto before = co_await c.config_get("slowlog-max-len", use_awaitable);
    CO_ASSERT_EQ(before.size(), 1u)
    co_await c.config_set("slowlog-max-len", 77, use_awaitable);
    auto after = co_await c.config_get("slowlog-max-len", use_awaitable);
    EXPECT_EQ(after["slowlog-max-len"], "77");
    co_await c.config_set("slowlog-max-len", before["slowlog-max-len"], use_awaitable);
    auto several = co_await c.config_get("slowlog-*", use_awaitable);
    EXPECT_GE(several.size(), 2u);
    auto empty2 = co_await c.config_get("nosuchparameter", use_awaitable);
    EXPECT_TRUE(empty2.empty());
    auto unknown = c.config_set("nosuchparameter", "1");
    co_await test::expect_server_error(unknown, "ERR Unknown option");
    auto refused = c.config_set("slowlog-max-len", "not a number");
    co_await test::expect_server_error(refused, "ERR CONFIG SET failed");
  });
}

}  // namespace
}  // namespace asyncredis
