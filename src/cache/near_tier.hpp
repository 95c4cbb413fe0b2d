// NearTier: one CacheService's near cache: the store (NearCache) kept coherent by a
// ClientTracking on the service's client. The lookup asks it first; a read that goes to Redis
// takes a NearRead before its GET is sent, and the value decoded from the reply is kept
// through it only if no invalidation or loss of tracking came in between.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>

#include "asyncredis/cache/cache_options.hpp"
#include "asyncredis/detail/cache_values.hpp"
#include "asyncredis/tracking.hpp"
#include "cache/near_cache.hpp"
#include "cache/striped_counter.hpp"

namespace asyncredis {
class RedisClient;
}

namespace asyncredis::detail {

class NearTier;

// A read from Redis whose reply may be kept; given up (its key no longer pending) when the
// last reference goes, unless kept first.
struct NearRead {
  NearRead(std::shared_ptr<NearTier> tier, NearCache::Ticket ticket)
      : tier(std::move(tier)), ticket(std::move(ticket)) {}
  NearRead(const NearRead&) = delete;
  NearRead& operator=(const NearRead&) = delete;
  ~NearRead();

  std::shared_ptr<NearTier> tier;
  NearCache::Ticket ticket;
  // Until when a kept value may be served: the key's TTL as Redis gave it with the value,
  // capped by max_ttl. Unset (epoch of the clock): not known yet, or not to be kept.
  NearCache::Clock::time_point expiry{};
  // The early-refresh header stored with the value (0: none), kept with it.
  std::int64_t refresh_delta_ms = 0;
  std::int64_t refresh_expiry_ms = 0;
  bool finished = false;
};

class NearTier : public std::enable_shared_from_this<NearTier> {
 public:
  // Starts tracking `client`'s connections (Error(errc::invalid_argument) when the client
  // already has a ClientTracking). The tier keeps nothing until tracking is on.
  static std::shared_ptr<NearTier> start(RedisClient& client, const CacheOptions& options);
  NearTier(const NearTier&) = delete;
  NearTier& operator=(const NearTier&) = delete;
  // Stops tracking first: no event reaches the store once it is gone.
  ~NearTier();

  // The value kept for `redis_key` if it was decoded as `type`; null otherwise (counted as a
  // near miss while tracking is on).
  std::shared_ptr<const NearValue> find(std::string_view redis_key, const std::type_info& type);
  // Before the GET of `redis_key` is sent: a read that may be kept, or null while tracking is
  // not on everywhere (nothing is kept then).
  std::shared_ptr<NearRead> begin_read(std::string_view redis_key);
  // Redis said the key has `pttl_ms` left (PTTL: -1 none, -2 gone) when it was read.
  void set_lifetime(NearRead& read, std::int64_t pttl_ms) const;
  // Keeps `value` (`bytes` long as stored in Redis) for the read's key, unless the key was
  // invalidated or the tier flushed since the read began, or its lifetime is unknown or over.
  void keep(NearRead& read, std::shared_ptr<const NearValue> value, std::size_t bytes);
  // A write of `redis_key` through the service: it goes at once (and a read in flight for it
  // is not kept), not waiting for Redis's invalidation.
  void invalidate(std::string_view redis_key);
  // Everything goes (delete_pattern through the service).
  void flush();
  // ClientTracking::sync.
  void sync(NearSyncHandler handler) { tracking_->sync(std::move(handler)); }
  // Adds the near counters to `stats`.
  void add_to(CacheStats& stats) const;

  // Used by NearRead's destructor.
  void give_up(NearCache::Ticket ticket);

 private:
  NearTier(const CacheOptions& options);
  void on_event(const TrackingEvent& event);

  const NearCacheOptions options_;
  NearCache store_;
  StripedCounter hits_;
  std::atomic<std::uint64_t> misses_{0};
  // Last: destroyed first, so that no tracking event comes while the rest is torn down.
  std::unique_ptr<ClientTracking> tracking_;
};

}  // namespace asyncredis::detail
