// CommandMetrics: a CommandObserver that keeps a latency histogram per command name, to read
// in the process or to export (the HTTP demo's GET /metrics renders it for Prometheus).
//
//   auto metrics = std::make_shared<asyncredis::CommandMetrics>();
//   settings.observer = metrics;               // before the RedisClient is made
//   for (const auto& h : metrics->snapshot()) use(h.command, h.count, h.buckets, h.sum);
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "asyncredis/observer.hpp"

namespace asyncredis {

/// What one command name has seen since the CommandMetrics was made.
struct CommandHistogram {
  std::string command;  ///< as CommandEvent::command
  /// buckets[i]: commands whose latency was at most bucket_bounds()[i] and more than the bound
  /// before it; one more element at the end counts those above the last bound. Not cumulative.
  std::vector<std::uint64_t> buckets;
  std::uint64_t count = 0;          ///< the sum of buckets
  std::chrono::nanoseconds sum{0};  ///< of the latencies
  std::uint64_t errors = 0;         ///< events with an error (server errors included)
};

/// A CommandObserver that keeps a latency histogram and an error count per command name;
/// set it as RedisSettings::observer and read it with snapshot().
class CommandMetrics final : public CommandObserver {
 public:
  CommandMetrics();
  ~CommandMetrics() override;
  CommandMetrics(const CommandMetrics&) = delete;
  CommandMetrics& operator=(const CommandMetrics&) = delete;

  /// Counts the event under its command name: a shared lock and a few relaxed atomic adds for
  /// a name seen before, so threads counting do not wait for each other.
  void on_end(const CommandEvent& event) noexcept override;

  /// The upper bounds of the buckets, log-spaced from 50 us to 10 s (1-2.5-5 steps).
  static std::span<const std::chrono::microseconds> bucket_bounds() noexcept;

  /// Every command name seen so far, sorted by name; from any thread, while events arrive
  /// (each histogram is read bucket by bucket: count always equals the buckets' sum, sum may
  /// include an event or two that the buckets do not yet).
  std::vector<CommandHistogram> snapshot() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace asyncredis
