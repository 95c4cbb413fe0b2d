// callbacks: the client driven by plain completion callbacks instead of coroutines.
#include <iostream>

#include <boost/asio/io_context.hpp>

#include "asyncredis/asyncredis.hpp"

namespace asio = boost::asio;

int main() {
  asio::io_context io;
  asyncredis::RedisClient client(io.get_executor(), asyncredis::RedisSettings::from_env());
  int status = 0;

  client.connect([&](std::exception_ptr error) {
    if (error) {
      std::cerr << "connect failed: " << asyncredis::error_message_of(error) << "\n";
      status = 1;
      return;
    }
    client.set("callbacks:key", "value", [&](std::exception_ptr error, bool stored) {
      if (error) {
        std::cerr << "SET failed: " << asyncredis::error_message_of(error) << "\n";
        status = 1;
        return;
      }
      std::cout << "SET stored=" << std::boolalpha << stored << "\n";
      client.get("callbacks:key", [&](std::exception_ptr error, std::optional<std::string> v) {
        if (error) {
          std::cerr << "GET failed: " << asyncredis::error_message_of(error) << "\n";
          status = 1;
          return;
        }
        std::cout << "GET -> " << v.value_or("(nil)") << "\n";
        client.del("callbacks:key", [&](std::exception_ptr, std::int64_t) {
          client.disconnect([](std::exception_ptr) { std::cout << "disconnected\n"; });
        });
      });
    });
  });

  io.run();
  return status;
}
