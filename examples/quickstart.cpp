// quickstart: connect, set/get, JSON, a pipeline and a transaction, in coroutine style.
// Reads its settings from the environment (REDIS_URL, or REDIS_HOST/REDIS_PORT/...).
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/asyncredis.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

struct Profile {
  std::string name;
  int visits = 0;
  friend void to_json(nlohmann::json& j, const Profile& p) {
    j = {{"name", p.name}, {"visits", p.visits}};
  }
  friend void from_json(const nlohmann::json& j, Profile& p) {
    j.at("name").get_to(p.name);
    j.at("visits").get_to(p.visits);
  }
};

asio::awaitable<void> tour(asyncredis::RedisClient& client) {
  co_await client.connect(use_awaitable);
  std::cout << "connected to " << client.settings().redacted_url() << "\n";

  // Strings, with an expiry.
  // Arguments are named variables: GCC 12 destroys temporaries of class type inside a
  // co_await expression twice (a compiler bug); plain values and string literals are fine.
  const asyncredis::SetOptions one_minute{.ttl = 60s};
  co_await client.set("quickstart:greeting", "hello", one_minute, use_awaitable);
  auto greeting = co_await client.get("quickstart:greeting", use_awaitable);
  std::cout << "GET quickstart:greeting -> " << greeting.value_or("(nil)") << "\n";

  // JSON values: any type with to_json/from_json.
  const Profile ada{"ada", 1};
  co_await client.set_json("quickstart:profile", ada, {}, use_awaitable);
  auto profile = co_await client.get_json<Profile>("quickstart:profile", use_awaitable);
  std::cout << "profile -> " << profile->name << ", " << profile->visits << " visit(s)\n";

  // A pipeline: several commands, one round trip, one reply each.
  asyncredis::Pipeline pipeline;
  pipeline.add("INCR", "quickstart:hits")
      .add("INCR", "quickstart:hits")
      .add("GET", "quickstart:hits");
  auto replies = co_await client.execute(pipeline, use_awaitable);
  std::cout << "pipeline -> hits = " << replies.back().as<std::string>() << "\n";

  // A transaction: MULTI/EXEC, applied atomically.
  asyncredis::Pipeline transfer;
  transfer.add("DECRBY", "quickstart:a", 10).add("INCRBY", "quickstart:b", 10);
  auto applied = co_await client.transaction(transfer, use_awaitable);
  std::cout << "transaction -> a = " << (*applied)[0].as<long long>()
            << ", b = " << (*applied)[1].as<long long>() << "\n";

  // Errors keep Redis's message.
  try {
    co_await client.command<long long>("INCR", "quickstart:greeting", use_awaitable);
  } catch (const asyncredis::Error& e) {
    std::cout << "INCR of a string -> error: " << e.message() << "\n";
  }

  std::vector<std::string> keys{"quickstart:greeting", "quickstart:profile", "quickstart:hits",
                                "quickstart:a", "quickstart:b"};
  co_await client.del(keys, use_awaitable);
  co_await client.disconnect(use_awaitable);
  std::cout << "done\n";
}

int main() {
  try {
    asio::io_context io;
    asyncredis::RedisClient client(io.get_executor(), asyncredis::RedisSettings::from_env());
    std::exception_ptr failure;
    asio::co_spawn(io, tour(client), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "quickstart: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
