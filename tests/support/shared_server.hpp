// Fixtures for suites that share one redis-server (or one LocalCluster, see shared_target.hpp):
// started once per suite, flushed before each test. CacheTest adds a connected client and a
// CacheService over it.
//
//   class Memoizer : public test::CacheTest {};
//   TEST_F(Memoizer, ...) { with_cache([](RedisClient&, CacheService&) -> awaitable<void> {...}); }
#pragma once

#include <functional>

#include <gtest/gtest.h>
#include <boost/asio/awaitable.hpp>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/shared_target.hpp"

namespace asyncredis::test {

class SharedServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new SharedTarget(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { server_->cli({"FLUSHALL"}); }

  static inline SharedTarget* server_ = nullptr;
};

class CacheTest : public SharedServerTest {
 protected:
  // Runs `body` with a connected client and a CacheService (with `options`) over it.
  void with_cache(std::function<boost::asio::awaitable<void>(RedisClient&, CacheService&)> body,
                  CacheOptions options = {}) {
    run_async([&](boost::asio::io_context& io) -> boost::asio::awaitable<void> {
      RedisClient client(io.get_executor(), server_->settings());
      co_await client.connect(use_awaitable);
      CacheService cache(client, options);
      co_await body(client, cache);
      co_await client.disconnect(use_awaitable);
    });
  }
};

}  // namespace asyncredis::test
