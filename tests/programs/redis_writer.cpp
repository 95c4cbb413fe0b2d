// redis_writer: the other process of the near cache's randomized check. It SETs keys
// "<prefix><k>" (k < keys) to increasing numbers through its own plain hiredis connection and,
// after each acknowledged write, prints "<k> <value>" on stdout (flushed), so the test knows
// that from then on no reader may see an older value of that key.
//
//   redis_writer <port> <prefix> <keys> <writes> <seed>
#include <hiredis/hiredis.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: redis_writer <port> <prefix> <keys> <writes> <seed>\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string prefix = argv[2];
  const long keys = std::atol(argv[3]);
  const long writes = std::atol(argv[4]);
  std::mt19937_64 random(std::strtoull(argv[5], nullptr, 10));
  if (keys <= 0 || writes < 0) {
    std::fprintf(stderr, "redis_writer: keys must be > 0 and writes >= 0\n");
    return 2;
  }
  redisContext* redis = redisConnect("127.0.0.1", port);
  if (redis == nullptr || redis->err != 0) {
    std::fprintf(stderr, "redis_writer: cannot connect to port %d\n", port);
    return 1;
  }
  std::uniform_int_distribution<long> pick(0, keys - 1);
  for (long value = 1; value <= writes; ++value) {
    const long k = pick(random);
    const std::string key = prefix + std::to_string(k);
    const std::string text = std::to_string(value);
    auto* reply = static_cast<redisReply*>(
        redisCommand(redis, "SET %b %b", key.data(), key.size(), text.data(), text.size()));
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
      std::fprintf(stderr, "redis_writer: SET failed\n");
      return 1;
    }
    freeReplyObject(reply);
    std::printf("%ld %ld\n", k, value);
    std::fflush(stdout);
  }
  redisFree(redis);
  return 0;
}
