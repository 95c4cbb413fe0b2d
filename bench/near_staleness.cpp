// --command near-staleness: how long a near cache may serve a value after another client's
// write of it was acknowledged. The reader's io_context runs on its own thread; this thread
// waits for the writer's acknowledgement, then spins on the near cache's invalidation count,
// so that the moment of the eviction is seen without a timer's granularity.
#include "near_staleness.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cache_service.hpp"

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

int near_staleness_bench(asyncredis::RedisSettings settings, long rounds, bool json) {
  asio::io_context io;
  auto work = asio::make_work_guard(io);
  std::thread loop([&] { io.run(); });
  std::vector<double> staleness_us;
  int status = 0;
  try {
    asyncredis::RedisClient reader(io.get_executor(), settings);
    asyncredis::RedisClient writer(io.get_executor(), settings);
    reader.connect(asio::use_future).get();
    writer.connect(asio::use_future).get();
    {
      asyncredis::CacheOptions options;
      options.near_cache.enabled = true;
      asyncredis::CacheService cache(reader, options);
      const std::string key = "bench:near-staleness";
      cache.set(key, 0, asio::use_future).get();
      for (long round = 1; round <= rounds; ++round) {
        // Held near: read until a read is answered without Redis.
        const auto deadline = Clock::now() + std::chrono::seconds(10);
        for (std::uint64_t hits = cache.stats().near_hits; cache.stats().near_hits == hits;) {
          if (Clock::now() > deadline)
            throw std::runtime_error("the near cache never held the key");
          cache.get<long>(key, asio::use_future).get();
        }
        const std::uint64_t before = cache.stats().near_invalidations;
        std::atomic<std::uint64_t> evicted_ns{0};
        std::atomic<bool> stop{false};
        std::thread watcher([&] {
          while (!stop.load(std::memory_order_relaxed)) {
            if (cache.stats().near_invalidations != before) {
              evicted_ns = Clock::now().time_since_epoch().count();
              return;
            }
          }
        });
        writer.set(key, std::to_string(round), asio::use_future).get();
        const auto acknowledged = Clock::now().time_since_epoch().count();
        const auto limit = Clock::now() + std::chrono::seconds(10);
        while (evicted_ns.load() == 0 && Clock::now() < limit) std::this_thread::yield();
        stop = true;
        watcher.join();
        if (evicted_ns.load() == 0) throw std::runtime_error("no invalidation within 10 s");
        const double us =
            static_cast<double>(static_cast<std::int64_t>(evicted_ns.load()) - acknowledged) / 1e3;
        staleness_us.push_back(std::max(0.0, us));
      }
    }
    reader.disconnect(asio::use_future).get();
    writer.disconnect(asio::use_future).get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asyncredis-bench: near-staleness: %s\n", e.what());
    status = 1;
  }
  work.reset();
  loop.join();
  if (status != 0) return status;
  std::sort(staleness_us.begin(), staleness_us.end());
  auto at = [&](double p) {
    return staleness_us[static_cast<std::size_t>(p * static_cast<double>(staleness_us.size() - 1))];
  };
  if (json) {
    std::printf(
        "{\"client\":\"asyncredis\",\"cmd\":\"NEAR-STALENESS\",\"rounds\":%ld,"
        "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}\n",
        rounds, at(0.5), at(0.99), staleness_us.back());
  } else {
    std::printf(
        "RESULT client=asyncredis cmd=NEAR-STALENESS rounds=%ld p50_us=%.1f p99_us=%.1f "
        "max_us=%.1f\n",
        rounds, at(0.5), at(0.99), staleness_us.back());
  }
  return 0;
}
