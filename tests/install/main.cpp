// Consumer of the installed asyncredis: the umbrella header compiles, settings render a URL,
// and a client can be constructed (no connection: no server is needed).
#include <asyncredis/asyncredis.hpp>

#include <boost/asio/io_context.hpp>
#include <iostream>

int main() {
  asyncredis::RedisSettings settings;
  settings.host = "127.0.0.1";
  settings.port = 6380;
  boost::asio::io_context io;
  asyncredis::RedisClient client(io.get_executor(), settings);
  std::cout << settings.url() << '\n';
  return client.settings().port == 6380 ? 0 : 1;
}
