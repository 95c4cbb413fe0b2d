// The state a CacheService and its copies share: the connection, the options, the counters,
// the computations in flight and the namespace generations read so far.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>

#include "asyncredis/cache/cache_options.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/detail/cache_values.hpp"
#include "asyncredis/settings.hpp"
#include "cache/striped_counter.hpp"
#include "net/movable_handler.hpp"

namespace asyncredis::detail {

class NearTier;

namespace asio = boost::asio;

using FlightHandler = asio::any_completion_handler<void(std::exception_ptr, CacheEntry)>;

// One computation in flight, and the callers waiting for it. Guarded by CacheCore::mutex.
// A waiter completed without an error and with a miss (never a computation's result) leads
// the flight from then on: the leader's caller cancelled (see CacheCore::hand_over).
struct Flight {
  struct Waiter {
    std::uint64_t id;
    MovableHandler<FlightHandler> handler;  // Boost 1.81: see movable_handler.hpp
  };
  explicit Flight(std::chrono::steady_clock::time_point deadline_in) : deadline(deadline_in) {}

  // After this, waiters fail with errc::timeout and a new caller starts a new flight.
  const std::chrono::steady_clock::time_point deadline;
  std::vector<Waiter> waiters;
  std::uint64_t next_id = 0;
  bool done = false;
  std::exception_ptr error;
  CacheEntry result;
};

// The key of the flight computing what is stored at `redis_key` (a flight of a caller whose
// Redis key is not known has another form, which never equals one of these).
inline std::string flight_key_of(std::string_view redis_key) {
  std::string key = "r";
  key += redis_key;
  return key;
}

// What a waiter promoted to leader receives (see Flight).
inline bool is_hand_over(const CacheEntry& waited) noexcept {
  return waited.kind == CacheEntry::Kind::miss;
}

// `options` with default_ttl 0 replaced by the settings' default_ttl.
CacheOptions with_default_ttl(CacheOptions options, const RedisSettings& settings);

class CacheCore : public std::enable_shared_from_this<CacheCore> {
 public:
  // Validates `options` (Error(errc::invalid_argument) naming the field); a default_ttl of 0
  // is RedisSettings' default (the service over a client passes the client's instead).
  CacheCore(Commands commands, asio::any_io_executor executor, CacheOptions options);

  // Counts `error`; true when the policy turns it into a miss or a skipped write.
  bool absorb(const std::exception_ptr& error) noexcept;
  // `ttl` (0: `fallback`) shortened by the jitter; at least 1 ms.
  std::chrono::milliseconds effective_ttl(std::chrono::milliseconds ttl,
                                          std::chrono::milliseconds fallback) const;

  // A namespace's generation if read within generation_refresh.
  bool fresh_generation(const std::string& ns, std::int64_t& generation);
  void remember_generation(const std::string& ns, std::int64_t generation);

  // The flight for `key`: the one in progress (leader = false) or a new one, with a deadline
  // `limit` from now, that this caller leads. A flight past its deadline is replaced.
  std::shared_ptr<Flight> join_or_lead(const std::string& key, std::chrono::milliseconds limit,
                                       bool& leader);
  // Registers a caller waiting for `flight`; completes it at once if the flight is done.
  void add_waiter(const std::shared_ptr<Flight>& flight, FlightHandler handler);
  // Ends `flight` (stored at `key`) with its result or error and releases every waiter.
  void finish(const std::string& key, const std::shared_ptr<Flight>& flight,
              std::exception_ptr error, const CacheEntry& result);
  // Makes one waiter of `flight` its leader (it computes with its own computation); false when
  // none waits, and the flight is left for finish().
  bool hand_over(const std::shared_ptr<Flight>& flight);

  // Computations that will store at a Redis key, and the invalidations of that key since each
  // began: begin_computation() returns the key's generation, which store checks with
  // still_current() before and after its SET. Keys are counted while computations run only.
  std::uint64_t begin_computation(const std::string& redis_key);
  void end_computation(const std::string& redis_key) noexcept;
  bool still_current(const std::string& redis_key, std::uint64_t generation);
  // An invalidation (set, del) of `redis_key` through this service is about to be sent: a
  // computation running for it must not store its result, and callers from now on must not
  // share it. invalidated_all(): the same for every key (delete_pattern).
  void invalidated(const std::string& redis_key);
  void invalidated_all();

  const Commands commands;
  const asio::any_io_executor executor;
  const CacheOptions options;
  // The near cache; null when off. Set by the service's constructor, before any operation.
  std::shared_ptr<NearTier> near;

  struct Counters {
    StripedCounter hits;  // bumped on every hit, from whichever thread completes it
    std::atomic<std::uint64_t> misses{0};
    std::atomic<std::uint64_t> negative_hits{0};
    std::atomic<std::uint64_t> sets{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<std::uint64_t> computations{0};
    std::atomic<std::uint64_t> waits{0};
    std::atomic<std::uint64_t> early_refreshes{0};
  } counters;

  // Flights completed so far: a caller that missed while one was finishing reads again.
  std::atomic<std::uint64_t> flights_completed{0};

  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights;  // by Redis key

 private:
  struct Computing {
    std::uint64_t generation = 0;
    std::size_t computations = 0;
  };
  std::unordered_map<std::string, Computing> computing_;  // guarded by mutex

  struct Generation {
    std::int64_t value = 0;
    std::chrono::steady_clock::time_point read_at;
  };
  std::mutex generations_mutex_;
  std::unordered_map<std::string, Generation> generations_;
};

// A uniform random number in (0, 1], per thread.
double cache_random() noexcept;

}  // namespace asyncredis::detail
