// SyncCache and the blocking cached(): the JSON cache for a SyncClient.
//
//   asyncredis::SyncClient redis(settings);
//   asyncredis::SyncCache cache(redis);
//   auto get_user = asyncredis::cached(cache, "user", std::chrono::minutes(10),
//                                      [&](std::int64_t id) { return load_user(id); });
//   std::optional<User> u = get_user(42);   // from Redis, or load_user(42) once for all threads
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/cache/cached.hpp"
#include "asyncredis/sync_client.hpp"
#include "asyncredis/use_sync.hpp"

namespace asyncredis {

namespace detail {
class ComputePool;

// Runs the blocking `work` on `pool` and resumes the caller with its result: blocking
// computations never run on the io thread (they may themselves call the SyncClient).
template <class R, class F>
boost::asio::awaitable<R> run_blocking_on(boost::asio::any_io_executor pool, F work) {
  auto run = [&work]() -> boost::asio::awaitable<R> { co_return work(); };
  co_return co_await boost::asio::co_spawn(pool, std::move(run), boost::asio::use_awaitable);
}

// A blocking function as the asynchronous function Cached expects.
template <class Fn>
struct OffloadedCall {
  boost::asio::any_io_executor pool;
  Fn fn;

  template <class... Args>
  requires std::is_invocable_v<const Fn&, const Args&...>
      boost::asio::awaitable<std::invoke_result_t<const Fn&, const Args&...>>
  operator()(const Args&... args) const {
    using R = std::invoke_result_t<const Fn&, const Args&...>;
    return run_blocking_on<R>(pool,
                              [fn = fn, ... args = args]() { return std::invoke(fn, args...); });
  }
};
}  // namespace detail

template <class Fn>
class SyncCached;

/// A CacheService whose operations block and return their result (see CacheService for what
/// each does and the errors it throws as asyncredis::Error). Cheap to copy; copies share the
/// service and the compute pool. Safe from many threads.
class SyncCache {
 public:
  /// A cache over `client`'s pool. The computations of get_or_set() and cached() run on
  /// `compute_threads` threads of the cache's own (computations of different keys beyond that
  /// wait for a free thread). Throws CacheService's option errors, and
  /// Error(errc::invalid_argument) for compute_threads 0.
  explicit SyncCache(SyncClient& client, CacheOptions options = {},
                     std::size_t compute_threads = 4);

  /// The same cache with its keys in namespace `ns` (see CacheService::in_namespace).
  SyncCache in_namespace(std::string ns) const;
  /// The asynchronous service underneath.
  const CacheService& async_service() const noexcept { return service_; }
  /// The service's hit, miss and error counters.
  CacheStats stats() const noexcept { return service_.stats(); }

  /// The value at `key` as a T, or std::nullopt on a miss.
  template <class T = nlohmann::json>
  std::optional<T> get(std::string_view key) const {
    return service_.get<T>(key, use_sync);
  }
  /// Stores value's JSON for `ttl` (0: the default TTL); an empty optional stores "not found".
  template <class T>
  void set(std::string_view key, const T& value, std::chrono::milliseconds ttl = {}) const {
    service_.set(key, value, ttl, use_sync);
  }
  /// Removes `key`: true when it existed.
  bool del(std::string_view key) const { return service_.del(key, use_sync); }
  /// Whether `key` holds an entry (a cached "not found" counts).
  bool exists(std::string_view key) const { return service_.exists(key, use_sync); }
  /// Sets `key`'s remaining lifetime (> 0): true when the key exists.
  bool expire(std::string_view key, std::chrono::milliseconds ttl) const {
    return service_.expire(key, ttl, use_sync);
  }
  /// One MGET: for each key, in order, what get<T> would return.
  template <class T = nlohmann::json>
  std::vector<std::optional<T>> mget(std::vector<std::string> keys) const {
    return service_.mget<T>(std::move(keys), use_sync);
  }
  /// The value at `key`; on a miss compute() (a blocking callable returning R) runs once for
  /// every thread asking for the key, on the compute pool, and its result is stored for `ttl`.
  /// What compute() throws reaches every caller and is not stored.
  template <class Compute>
  auto get_or_set(std::string_view key, std::chrono::milliseconds ttl, Compute compute) const {
    using R = std::invoke_result_t<Compute&>;
    auto offloaded = [pool = pool_executor_, compute = std::move(compute)]() {
      return detail::run_blocking_on<R>(pool, compute);
    };
    return service_.get_or_set<R>(key, ttl, std::move(offloaded), use_sync);
  }
  /// Removes every key of this cache matching the glob `pattern`: how many were removed.
  auto delete_pattern(std::string_view pattern) const {
    return service_.delete_pattern(pattern, use_sync);
  }
  /// Invalidates every key of namespace `ns` at once; returns the new generation.
  auto invalidate_namespace(std::string_view ns) const {
    return service_.invalidate_namespace(ns, use_sync);
  }

 private:
  template <class Fn>
  friend class SyncCached;
  SyncCache(CacheService service, std::shared_ptr<detail::ComputePool> pool);

  CacheService service_;
  std::shared_ptr<detail::ComputePool> pool_;
  boost::asio::any_io_executor pool_executor_;
};

/// A blocking function memoized in a SyncCache; see cached(SyncCache, ...). Cheap to copy.
template <class Fn>
class SyncCached {
 public:
  /// Memoizes `fn` in `cache`; see cached(const SyncCache&, ...).
  SyncCached(const SyncCache& cache, std::string prefix, std::chrono::milliseconds ttl, Fn fn)
      : pool_(cache.pool_),
        cached_(cache.service_, std::move(prefix), ttl,
                detail::OffloadedCall<Fn>{cache.pool_executor_, std::move(fn)}) {}

  /// fn(args...)'s result, from the cache or computed once for every thread asking (and
  /// stored for the TTL); errors as Cached's, thrown.
  template <class... Args>
  auto operator()(const Args&... args) const {
    return cached_(args..., use_sync);
  }
  /// Deletes the entry of a call with `args`: true when there was one.
  template <class... Args>
  bool invalidate(const Args&... args) const {
    return cached_.invalidate(args..., use_sync);
  }
  /// The key a call with `args` uses (see Cached::key_for).
  template <class... Args>
  std::string key_for(const Args&... args) const {
    return cached_.key_for(args...);
  }

 private:
  std::shared_ptr<detail::ComputePool> pool_;  // outlives the calls that run on it
  Cached<detail::OffloadedCall<Fn>> cached_;
};

/// Memoizes the blocking function `fn` in `cache` under "<prefix>:<SHA-256 of the arguments>"
/// for `ttl` (0: the default TTL), with single flight across threads. Throws
/// Error(errc::invalid_argument) for an empty prefix or a negative TTL.
template <class Fn>
SyncCached<std::decay_t<Fn>> cached(const SyncCache& cache, std::string prefix,
                                    std::chrono::milliseconds ttl, Fn&& fn) {
  return SyncCached<std::decay_t<Fn>>(cache, std::move(prefix), ttl, std::forward<Fn>(fn));
}

}  // namespace asyncredis
