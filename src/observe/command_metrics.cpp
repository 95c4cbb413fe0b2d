// CommandMetrics: per command name, atomic counters in a table that only grows. A name seen
// before is found under a shared lock and counted with relaxed atomic adds, so io threads
// counting never wait for each other; a new name takes the lock exclusively once. Each thread
// remembers the last name it counted (most traffic repeats one command), which skips the
// lock and the hash.
#include "asyncredis/command_metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <string_view>
#include <unordered_map>

namespace asyncredis {

namespace {

using std::chrono::microseconds;

constexpr std::array<microseconds, 17> kBounds{
    microseconds(50),        microseconds(100),       microseconds(250),
    microseconds(500),       microseconds(1'000),     microseconds(2'500),
    microseconds(5'000),     microseconds(10'000),    microseconds(25'000),
    microseconds(50'000),    microseconds(100'000),   microseconds(250'000),
    microseconds(500'000),   microseconds(1'000'000), microseconds(2'500'000),
    microseconds(5'000'000), microseconds(10'000'000)};

std::size_t bucket_of(std::chrono::nanoseconds latency) noexcept {
  const auto it =
      std::lower_bound(kBounds.begin(), kBounds.end(), latency,
                       [](microseconds bound, std::chrono::nanoseconds l) { return bound < l; });
  return static_cast<std::size_t>(it - kBounds.begin());
}

struct Series {
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets{};
  std::atomic<std::int64_t> sum_ns{0};
  std::atomic<std::uint64_t> errors{0};
};

// Lets find() take a string_view: no string is built to look a name up.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept {
    return std::hash<std::string_view>{}(name);
  }
};

// Tells CommandMetrics objects apart for the threads' memory of the last name: an address
// may be reused by a later object, an id never is.
std::atomic<std::uint64_t> next_id{1};

struct LastSeen {
  std::uint64_t owner = 0;
  std::string name;
  Series* series = nullptr;
};
thread_local LastSeen last_seen;

}  // namespace

struct CommandMetrics::Impl {
  const std::uint64_t id = next_id.fetch_add(1, std::memory_order_relaxed);
  mutable std::shared_mutex mutex;
  std::unordered_map<std::string, std::unique_ptr<Series>, NameHash, std::equal_to<>> series;

  Series& series_of(std::string_view command) {
    if (last_seen.owner == id && last_seen.name == command) return *last_seen.series;
    Series& found = find_or_add(command);
    last_seen.owner = id;
    last_seen.name = command;
    last_seen.series = &found;
    return found;
  }

  Series& find_or_add(std::string_view command) {
    {
      std::shared_lock lock(mutex);
      if (auto it = series.find(command); it != series.end()) return *it->second;
    }
    std::unique_lock lock(mutex);
    auto [it, added] = series.try_emplace(std::string(command));
    if (added) it->second = std::make_unique<Series>();
    return *it->second;
  }
};

CommandMetrics::CommandMetrics() : impl_(std::make_unique<Impl>()) {}
CommandMetrics::~CommandMetrics() = default;

std::span<const microseconds> CommandMetrics::bucket_bounds() noexcept {
  return kBounds;
}

void CommandMetrics::on_end(const CommandEvent& event) noexcept {
  try {
    Series& s = impl_->series_of(event.command);
    s.buckets[bucket_of(event.latency)].fetch_add(1, std::memory_order_relaxed);
    s.sum_ns.fetch_add(event.latency.count(), std::memory_order_relaxed);
    if (event.error) s.errors.fetch_add(1, std::memory_order_relaxed);
  } catch (...) {
    // Out of memory for a new name: this event goes uncounted rather than ending the program.
  }
}

std::vector<CommandHistogram> CommandMetrics::snapshot() const {
  std::vector<CommandHistogram> out;
  {
    std::shared_lock lock(impl_->mutex);
    out.reserve(impl_->series.size());
    for (const auto& [name, s] : impl_->series) {
      CommandHistogram& h = out.emplace_back();
      h.command = name;
      h.buckets.reserve(s->buckets.size());
      for (const auto& bucket : s->buckets) {
        h.buckets.push_back(bucket.load(std::memory_order_relaxed));
        h.count += h.buckets.back();
      }
      h.sum = std::chrono::nanoseconds(s->sum_ns.load(std::memory_order_relaxed));
      h.errors = s->errors.load(std::memory_order_relaxed);
    }
  }
  std::sort(out.begin(), out.end(), [](const CommandHistogram& a, const CommandHistogram& b) {
    return a.command < b.command;
  });
  return out;
}

}  // namespace asyncredis
