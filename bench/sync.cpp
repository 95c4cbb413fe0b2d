// asyncredis-bench --sync: the blocking facade's cost, to compare with the reference's
// `--mode sync --threads T` (T blocking hiredis loops, a connection each).
#include "sync.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "asyncredis/error.hpp"
#include "asyncredis/sync_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double percentile_us(const std::vector<std::int64_t>& sorted_ns, double p) {
  if (sorted_ns.empty()) return 0;
  const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted_ns.size() - 1));
  return static_cast<double>(sorted_ns[index]) / 1000.0;
}

}  // namespace

int sync_bench(asyncredis::RedisSettings settings, const std::string& command, long requests,
               long threads, long value_size, bool json) {
  const std::string key = "key:__rand_int__";  // the reference's key
  const std::string value(static_cast<std::size_t>(value_size), 'x');
  const bool is_get = command == "get";
  std::vector<std::vector<std::int64_t>> latencies(static_cast<std::size_t>(threads));
  long errors = 0;
  double secs = 0;
  try {
    asyncredis::SyncClient redis(settings);
    redis.set(key, value);
    std::vector<std::thread> callers;
    std::vector<long> failed(static_cast<std::size_t>(threads), 0);
    const Clock::time_point start = Clock::now();
    for (long t = 0; t < threads; ++t) {
      const long share = requests / threads + (t < requests % threads ? 1 : 0);
      callers.emplace_back([&, t, share] {
        auto& mine = latencies[static_cast<std::size_t>(t)];
        mine.reserve(static_cast<std::size_t>(share));
        for (long i = 0; i < share; ++i) {
          const Clock::time_point sent = Clock::now();
          try {
            if (is_get) {
              redis.get(key);
            } else {
              redis.set(key, value);
            }
          } catch (const asyncredis::Error&) {
            ++failed[static_cast<std::size_t>(t)];
          }
          mine.push_back(
              std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - sent).count());
        }
      });
    }
    for (std::thread& caller : callers) caller.join();
    secs = std::chrono::duration<double>(Clock::now() - start).count();
    for (long f : failed) errors += f;
  } catch (const asyncredis::Error& e) {
    std::cerr << "asyncredis-bench: " << e.what() << "\n";
    return 1;
  }
  std::vector<std::int64_t> all;
  for (auto& mine : latencies) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  const double ops = static_cast<double>(requests) / secs;
  const char* cmd = is_get ? "GET" : "SET";
  if (json) {
    nlohmann::json out = {{"client", "asyncredis"},
                          {"mode", "sync"},
                          {"cmd", cmd},
                          {"threads", threads},
                          {"requests", requests},
                          {"secs", secs},
                          {"ops_per_s", ops},
                          {"p50_us", percentile_us(all, 0.5)},
                          {"p99_us", percentile_us(all, 0.99)},
                          {"errors", errors}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf(
        "RESULT client=asyncredis mode=sync cmd=%s param=%ld connections=%zu n=%ld secs=%.6f "
        "ops_per_s=%.1f p50_us=%.1f p99_us=%.1f errors=%ld\n",
        cmd, threads, settings.max_connections, requests, secs, ops, percentile_us(all, 0.5),
        percentile_us(all, 0.99), errors);
  }
  return errors == 0 ? 0 : 1;
}
