// cache: a slow "user gateway" behind cached(), an update that invalidates exactly the cached
// entry, a cached "not found", and the cache's statistics.
// Reads its settings from the environment (REDIS_URL, or REDIS_HOST/REDIS_PORT/...).
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/asyncredis.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct User {
  std::int64_t id = 0;
  std::string name;
  std::string email;
  friend void to_json(nlohmann::json& j, const User& u) {
    j = {{"id", u.id}, {"name", u.name}, {"email", u.email}};
  }
  friend void from_json(const nlohmann::json& j, User& u) {
    j.at("id").get_to(u.id);
    j.at("name").get_to(u.name);
    j.at("email").get_to(u.email);
  }
};

// Stands in for a database: every lookup takes 200 ms.
class UserGateway {
 public:
  asio::awaitable<std::optional<User>> find(std::int64_t id) {
    ++lookups_;
    asio::steady_timer delay(co_await asio::this_coro::executor, 200ms);
    co_await delay.async_wait(use_awaitable);
    auto it = users_.find(id);
    if (it == users_.end()) co_return std::nullopt;
    co_return it->second;
  }
  void rename(std::int64_t id, std::string name) { users_.at(id).name = std::move(name); }
  int lookups() const { return lookups_; }

 private:
  std::map<std::int64_t, User> users_{{1, {1, "Ada", "ada@example.com"}},
                                      {2, {2, "Grace", "grace@example.com"}}};
  int lookups_ = 0;
};

template <class F>
asio::awaitable<void> timed(const char* what, F&& call) {
  const auto start = Clock::now();
  std::optional<User> user = co_await call();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::cout << "  " << what << " -> " << (user ? user->name : std::string("(not found)")) << " in "
            << ms.count() << " ms\n";
}

asio::awaitable<void> run(asyncredis::RedisClient& client) {
  co_await client.connect(use_awaitable);
  std::cout << "connected to " << client.settings().redacted_url() << "\n";

  asyncredis::CacheOptions options;
  options.key_prefix = "example:";
  options.negative_ttl = 30s;
  asyncredis::CacheService cache(client, options);
  UserGateway gateway;

  // Keys are "example:" (the service's prefix) + "user:" + SHA-256 of the arguments.
  auto get_user = asyncredis::cached(cache, "user", 10min,
                                     [&gateway](std::int64_t id) { return gateway.find(id); });
  co_await get_user.invalidate_all();  // a clean start for the example

  std::cout << "reading user 1 twice:\n";
  co_await timed("first", [&] { return get_user(1); });
  co_await timed("second", [&] { return get_user(1); });

  std::cout << "a user that does not exist, twice (\"not found\" is cached too):\n";
  co_await timed("first", [&] { return get_user(404); });
  co_await timed("second", [&] { return get_user(404); });

  std::cout << "an update, then the invalidation of exactly that entry (" << get_user.key_for(1)
            << "):\n";
  gateway.rename(1, "Ada Lovelace");
  const bool removed = co_await get_user.invalidate(1);
  std::cout << "  invalidated: " << std::boolalpha << removed << "\n";
  co_await timed("after the update", [&] { return get_user(1); });

  const asyncredis::CacheStats stats = cache.stats();
  std::cout << "gateway lookups: " << gateway.lookups() << "\n"
            << "cache: hits " << stats.hits << ", misses " << stats.misses << ", negative hits "
            << stats.negative_hits << ", sets " << stats.sets << ", errors " << stats.errors
            << ", computations " << stats.computations << "\n";

  co_await get_user.invalidate_all();
  co_await client.disconnect(use_awaitable);
}

int main() {
  try {
    asio::io_context io;
    asyncredis::RedisClient client(io.get_executor(), asyncredis::RedisSettings::from_env());
    int status = 0;
    asio::co_spawn(io, run(client), [&](std::exception_ptr error) {
      if (error) {
        std::cerr << "cache example failed: " << asyncredis::error_message_of(error) << "\n";
        status = 1;
      }
    });
    io.run();
    return status;
  } catch (const std::exception& e) {
    std::cerr << "cache example failed: " << e.what() << "\n";
    return 1;
  }
}
