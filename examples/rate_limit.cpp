// rate_limit: a burst of requests through a RateLimiter, with the HTTP headers each answer
// would carry, for each strategy; then what a limiter does when Redis is gone.
// Reads its settings from the environment (REDIS_URL, or REDIS_HOST/REDIS_PORT/...).
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/asyncredis.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

void print(const asyncredis::RateLimitResult& r) {
  std::cout << (r.allowed ? "  200" : "  429") << " (" << to_string(r.decided_by) << ")";
  for (const auto& [name, value] : asyncredis::rate_limit_headers(r)) {
    std::cout << "  " << name << ": " << value;
  }
  std::cout << "\n";
}

asio::awaitable<void> demo(asyncredis::RedisClient& client) {
  co_await client.connect(use_awaitable);
  for (auto strategy :
       {asyncredis::RateLimitStrategy::fixed_window, asyncredis::RateLimitStrategy::sliding_window,
        asyncredis::RateLimitStrategy::gcra}) {
    asyncredis::RateLimiter limiter(client,
                                    {.strategy = strategy,
                                     .key_prefix = "example:ratelimit",
                                     .on_unavailable = asyncredis::OnUnavailable::fail_open});
    std::cout << to_string(strategy) << ": 5 requests per 10 s, 7 sent\n";
    co_await limiter.reset("ip:192.0.2.1", use_awaitable);
    for (int i = 0; i < 7; ++i) {
      print(co_await limiter.check("ip:192.0.2.1", 5, 10s, use_awaitable));
    }
    auto peek = co_await limiter.peek("ip:192.0.2.1", 5, 10s, use_awaitable);
    std::cout << "  peek: " << peek.remaining << " left, next in " << peek.retry_after.count()
              << " ms\n";
    co_await limiter.reset("ip:192.0.2.1", use_awaitable);
  }
  co_await client.disconnect(use_awaitable);

  // A client that is not connected stands for an unreachable Redis: the policy decides, and
  // the result says so.
  asyncredis::RedisClient offline(co_await asio::this_coro::executor, client.settings());
  asyncredis::RateLimiter fallback(offline,
                                   {.on_unavailable = asyncredis::OnUnavailable::local_fallback});
  std::cout << "Redis unreachable, local fallback: 2 requests per 10 s, 3 sent\n";
  for (int i = 0; i < 3; ++i) {
    auto r = co_await fallback.check("ip:192.0.2.1", 2, 10s, use_awaitable);
    print(r);
    if (i == 0) std::cout << "  (because: " << r.unavailable_error.message() << ")\n";
  }
}

int main() {
  try {
    asio::io_context io;
    asyncredis::RedisClient client(io.get_executor(), asyncredis::RedisSettings::from_env());
    std::exception_ptr failure;
    asio::co_spawn(io, demo(client), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "rate_limit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
