#include "cache/near_tier.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

NearCacheLimits limits_of(const NearCacheOptions& options) {
  NearCacheLimits limits;
  limits.max_entries = options.max_entries;
  limits.max_bytes = options.max_bytes;
  return limits;
}

void require(bool ok, const char* option, const std::string& what) {
  if (!ok) {
    throw Error(errc::invalid_argument,
                std::string("CacheOptions::near_cache.") + option + ": " + what);
  }
}

}  // namespace

NearRead::~NearRead() {
  if (!finished) tier->give_up(std::move(ticket));
}

NearTier::NearTier(const CacheOptions& options)
    : options_(options.near_cache), store_(limits_of(options.near_cache)) {}

std::shared_ptr<NearTier> NearTier::start(RedisClient& client, const CacheOptions& options) {
  const NearCacheOptions& near = options.near_cache;
  require(near.max_entries > 0, "max_entries", "must be at least 1");
  require(near.max_bytes > 0, "max_bytes", "must be at least 1");
  require(near.max_ttl.count() > 0, "max_ttl",
          "must be positive, got " + std::to_string(near.max_ttl.count()) + " ms");
  std::shared_ptr<NearTier> tier(new NearTier(options));
  TrackingOptions tracking;
  if (near.mode == NearCacheOptions::Mode::broadcast) {
    tracking.broadcast = true;
    if (!options.key_prefix.empty()) tracking.prefixes.push_back(options.key_prefix);
  }
  NearTier* raw = tier.get();
  tier->tracking_ = std::make_unique<ClientTracking>(
      client, std::move(tracking), [raw](const TrackingEvent& event) { raw->on_event(event); });
  return tier;
}

NearTier::~NearTier() {
  tracking_.reset();
}

void NearTier::on_event(const TrackingEvent& event) {
  switch (event.kind) {
    case TrackingEvent::Kind::invalidated:
      store_.invalidate(event.keys);
      break;
    case TrackingEvent::Kind::flushed:
    case TrackingEvent::Kind::lost:
      store_.flush();
      break;
    case TrackingEvent::Kind::on:
      break;
  }
}

std::shared_ptr<const NearValue> NearTier::find(std::string_view redis_key,
                                                const std::type_info& type) {
  if (!tracking_->active()) return nullptr;
  auto held =
      std::static_pointer_cast<const NearValue>(store_.lookup(redis_key, NearCache::Clock::now()));
  if (held && *held->type == type) {
    hits_.add();
    return held;
  }
  misses_.fetch_add(1, std::memory_order_relaxed);
  return nullptr;
}

std::shared_ptr<NearRead> NearTier::begin_read(std::string_view redis_key) {
  // The epoch in the ticket is read before active(): a loss of tracking after this check
  // bumps it, and the reply is refused.
  NearCache::Ticket ticket = store_.begin_read(redis_key);
  if (!tracking_->active()) {
    store_.abandon_read(std::move(ticket));
    return nullptr;
  }
  return std::make_shared<NearRead>(shared_from_this(), std::move(ticket));
}

void NearTier::set_lifetime(NearRead& read, std::int64_t pttl_ms) const {
  if (pttl_ms == -2 || pttl_ms == 0 || pttl_ms < -2) return;  // gone, or not understood
  auto lifetime = std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_ttl);
  if (pttl_ms > 0) lifetime = std::min(lifetime, std::chrono::milliseconds(pttl_ms));
  read.expiry = NearCache::Clock::now() + lifetime;
}

void NearTier::keep(NearRead& read, std::shared_ptr<const NearValue> value, std::size_t bytes) {
  if (read.finished) return;
  read.finished = true;
  if (read.expiry == NearCache::Clock::time_point()) {
    store_.abandon_read(std::move(read.ticket));
    return;
  }
  store_.finish_read(std::move(read.ticket), std::move(value), bytes, read.expiry);
}

void NearTier::give_up(NearCache::Ticket ticket) {
  store_.abandon_read(std::move(ticket));
}

void NearTier::invalidate(std::string_view redis_key) {
  store_.invalidate(redis_key);
}

void NearTier::flush() {
  store_.flush();
}

void NearTier::add_to(CacheStats& stats) const {
  const NearCacheCounters c = store_.counters();
  stats.near_hits = hits_.load();
  stats.near_misses = misses_.load(std::memory_order_relaxed);
  stats.near_invalidations = c.invalidations;
  stats.near_flushes = c.flushes;
  stats.near_evictions = c.evictions;
  stats.near_entries = c.entries;
  stats.near_bytes = c.bytes;
}

void near_keep(const CacheEntry& entry, std::shared_ptr<NearValue> value) {
  NearRead& read = *entry.near_read;
  value->refresh_delta_ms = read.refresh_delta_ms;
  value->refresh_expiry_ms = read.refresh_expiry_ms;
  read.tier->keep(read, std::move(value), entry.json.size() + entry.redis_key.size());
}

}  // namespace asyncredis::detail
