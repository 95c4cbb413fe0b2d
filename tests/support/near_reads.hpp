// Waiting for the near cache: reads until one is answered from the process.
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

// Reads `key` until a read is answered by the near cache (tracking must be on first, and the
// first read only fills it). False if that does not happen in time.
inline boost::asio::awaitable<bool> held_near(const CacheService& cache, const std::string& key) {
  namespace asio = boost::asio;
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::uint64_t before = cache.stats().near_hits;
    co_await cache.get<nlohmann::json>(key, asio::use_awaitable);
    if (cache.stats().near_hits > before) co_return true;
    timer.expires_after(std::chrono::milliseconds(2));
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return false;
}

}  // namespace asyncredis::test
