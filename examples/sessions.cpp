// sessions: log a user in twice, read, touch and list the sessions, log out one, revoke the
// rest. Sessions live in the sessions database (settings.session_db, 3 by default) in the
// Python seed's format, so a Python service on the same Redis reads them.
// Reads its settings from the environment (REDIS_URL, or REDIS_HOST/REDIS_PORT/...).
#include <iostream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/asyncredis.hpp"

namespace asio = boost::asio;
using asio::use_awaitable;
using namespace std::chrono_literals;

asio::awaitable<void> tour(asyncredis::RedisClient& client) {
  co_await client.connect(use_awaitable);
  std::cout << "connected to " << client.settings().redacted_url(client.database()) << "\n";

  asyncredis::SessionOptions options;
  options.max_lifetime = std::chrono::days(7);  // touch() never extends a session past this
  asyncredis::RedisSessionRepository sessions(client, options);
  const asyncredis::Uuid user = asyncredis::Uuid::random();

  // Two logins (say, a laptop and a phone).
  const nlohmann::json laptop_data = {{"device", "laptop"}};
  const nlohmann::json phone_data = {{"device", "phone"}};
  const asyncredis::Session laptop =
      co_await sessions.create(user, 30min, laptop_data, use_awaitable);
  const asyncredis::Session phone = co_await sessions.create(user, 2h, phone_data, use_awaitable);
  std::cout << "created " << laptop.id << " and " << phone.id << " for user " << user.to_string()
            << "\n";

  // What a Python service would find at session:<id>.
  const auto stored = co_await client.get(sessions.key_of(laptop.id), use_awaitable);
  std::cout << "stored: " << stored.value_or("(nil)") << "\n";

  // A request comes in with the laptop's cookie: read it and slide its expiry.
  const auto current = co_await sessions.get(laptop.id, use_awaitable);
  std::cout << "get -> " << (current ? current->data.dump() : "no session") << "\n";
  const auto touched = co_await sessions.touch(laptop.id, 1h, use_awaitable);
  if (touched) {
    std::cout << "touch -> expires_at " << asyncredis::format_iso8601(touched->expires_at) << "\n";
  }

  const auto listed = co_await sessions.list_for_user(user, use_awaitable);
  std::cout << "list_for_user -> " << listed.size() << " session(s)\n";

  // Log out on the laptop; a stale copy saved later does not log it back in.
  const bool removed = co_await sessions.remove(laptop.id, use_awaitable);
  const asyncredis::SaveResult saved = co_await sessions.save(laptop, use_awaitable);
  std::cout << "remove -> " << std::boolalpha << removed << ", save of the removed session -> "
            << (saved == asyncredis::SaveResult::missing ? "missing (not brought back)" : "stored")
            << "\n";

  // "Log out everywhere".
  const std::size_t revoked = co_await sessions.revoke_all(user, use_awaitable);
  std::cout << "revoke_all -> " << revoked << " session(s)\n";

  co_await client.disconnect(use_awaitable);
  std::cout << "done\n";
}

int main() {
  try {
    asio::io_context io;
    const auto settings = asyncredis::RedisSettings::from_env();
    asyncredis::RedisClient client(io.get_executor(), settings, settings.session_db);
    std::exception_ptr failure;
    asio::co_spawn(io, tour(client), [&](std::exception_ptr e) { failure = e; });
    io.run();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    std::cerr << "sessions: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
