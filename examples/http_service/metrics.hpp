// GET /metrics: what the demo knows about itself, in the Prometheus text format 0.0.4, so a
// real Prometheus can scrape it. And the demo's Logger, which writes the client's connection
// events to stderr.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/command_metrics.hpp"
#include "asyncredis/observer.hpp"

namespace demo {

// The rate limiter's answers, counted by the demo (the library does not count them).
struct RateLimitCounters {
  std::atomic<std::uint64_t> allowed{0};
  std::atomic<std::uint64_t> denied{0};
};

// One RedisClient's pool, labelled client="<name>".
struct NamedPool {
  std::string name;
  asyncredis::PoolStats stats;
};

struct MetricsSources {
  std::vector<NamedPool> pools;
  asyncredis::CacheStats cache;
  std::uint64_t rate_allowed = 0;
  std::uint64_t rate_denied = 0;
  std::vector<asyncredis::CommandHistogram> commands;  // empty without a CommandMetrics
};

// The exposition: HELP and TYPE before each family; pool stats as gauges (reconnects a
// counter), cache stats and rate-limit decisions as counters, command latencies as the
// histogram asyncredis_command_duration_seconds (cumulative buckets, +Inf, _sum, _count) plus
// asyncredis_command_errors_total.
std::string render_prometheus(const MetricsSources& sources);

// The Content-Type of render_prometheus()'s text.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

// "http_service: redis <level>: <message> name=value ..." on stderr, one write per record.
class StderrLogger final : public asyncredis::Logger {
 public:
  void log(asyncredis::LogLevel level, std::string_view message,
           std::span<const asyncredis::LogField> fields) noexcept override;

 private:
  std::mutex mutex_;  // records from several io threads stay whole lines
};

}  // namespace demo
