#include "cache/near_cache.hpp"

#include <algorithm>

namespace asyncredis::detail {

namespace {

std::size_t share(std::size_t total, std::size_t shards) {
  return std::max<std::size_t>(1, total / shards);
}

}  // namespace

NearCache::NearCache(NearCacheLimits limits)
    : max_entries_per_shard_(share(limits.max_entries, std::max<std::size_t>(1, limits.shards))),
      max_bytes_per_shard_(share(limits.max_bytes, std::max<std::size_t>(1, limits.shards))) {
  const std::size_t count = std::max<std::size_t>(1, limits.shards);
  shards_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) shards_.push_back(std::make_unique<Shard>());
}

NearCache::Shard& NearCache::shard_of(std::string_view key) {
  return *shards_[Hash{}(key) % shards_.size()];
}

void NearCache::erase(Shard& shard, Lru::iterator it) {
  shard.bytes -= it->bytes;
  bytes_.fetch_sub(it->bytes, std::memory_order_relaxed);
  entries_.fetch_sub(1, std::memory_order_relaxed);
  shard.index.erase(std::string_view(it->key));
  shard.lru.erase(it);
}

NearCache::Value NearCache::lookup(std::string_view key, Clock::time_point now) {
  Shard& shard = shard_of(key);
  std::unique_lock lock(shard.mutex);
  const auto found = shard.index.find(key);
  if (found == shard.index.end()) {
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  const Lru::iterator it = found->second;
  if (it->expiry <= now) {
    erase(shard, it);
    lock.unlock();
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it);
  Value value = it->value;
  lock.unlock();
  hits_.fetch_add(1, std::memory_order_relaxed);
  return value;
}

NearCache::Ticket NearCache::begin_read(std::string_view key) {
  Shard& shard = shard_of(key);
  Ticket ticket;
  ticket.key = key;
  std::lock_guard lock(shard.mutex);
  // Read under the shard's lock: a flush() that bumps the epoch after this clears this
  // shard's pending marks after we made ours, so the ticket is either old-epoch or dirty.
  ticket.epoch = epoch();
  auto [it, inserted] = shard.pending.try_emplace(ticket.key);
  ++it->second.readers;
  ticket.generation = it->second.generation;
  return ticket;
}

bool NearCache::release(Shard& shard, const Ticket& ticket) {
  const auto it = shard.pending.find(ticket.key);
  if (it == shard.pending.end()) return false;  // a ticket given back twice
  const bool clean = it->second.generation == ticket.generation;
  if (--it->second.readers == 0) shard.pending.erase(it);
  return clean;
}

bool NearCache::finish_read(Ticket ticket, Value value, std::size_t size,
                            Clock::time_point expiry) {
  Shard& shard = shard_of(ticket.key);
  const std::size_t bytes = size + ticket.key.size();
  std::unique_lock lock(shard.mutex);
  const bool clean = release(shard, ticket) && ticket.epoch == epoch();
  if (!clean) {
    lock.unlock();
    refused_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!value || bytes > max_bytes_per_shard_) return false;
  if (const auto old = shard.index.find(std::string_view(ticket.key)); old != shard.index.end()) {
    erase(shard, old->second);
  }
  std::uint64_t evicted = 0;
  while (!shard.lru.empty() && (shard.lru.size() + 1 > max_entries_per_shard_ ||
                                shard.bytes + bytes > max_bytes_per_shard_)) {
    erase(shard, std::prev(shard.lru.end()));
    ++evicted;
  }
  shard.lru.push_front(Entry{std::move(ticket.key), std::move(value), bytes, expiry});
  shard.index.emplace(std::string_view(shard.lru.front().key), shard.lru.begin());
  shard.bytes += bytes;
  bytes_.fetch_add(bytes, std::memory_order_relaxed);
  entries_.fetch_add(1, std::memory_order_relaxed);
  lock.unlock();
  if (evicted != 0) evictions_.fetch_add(evicted, std::memory_order_relaxed);
  return true;
}

void NearCache::abandon_read(Ticket ticket) {
  Shard& shard = shard_of(ticket.key);
  std::lock_guard lock(shard.mutex);
  release(shard, ticket);
}

void NearCache::invalidate_in(Shard& shard, std::string_view key) {
  if (const auto found = shard.index.find(key); found != shard.index.end()) {
    erase(shard, found->second);
  }
  if (const auto pending = shard.pending.find(key); pending != shard.pending.end()) {
    ++pending->second.generation;
  }
}

void NearCache::invalidate(std::string_view key) {
  Shard& shard = shard_of(key);
  {
    std::lock_guard lock(shard.mutex);
    invalidate_in(shard, key);
  }
  invalidations_.fetch_add(1, std::memory_order_relaxed);
}

void NearCache::invalidate(std::span<const std::string> keys) {
  for (const std::string& key : keys) invalidate(std::string_view(key));
}

void NearCache::flush() {
  // First the epoch: a finish_read() from now on refuses every older ticket, so a shard
  // cleared below cannot be refilled by a read that began before the flush.
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    while (!shard->lru.empty()) erase(*shard, shard->lru.begin());
    // Dirtied, not dropped: the readers still out give their tickets back and must find
    // their count.
    for (auto& [key, pending] : shard->pending) ++pending.generation;
  }
  flushes_.fetch_add(1, std::memory_order_relaxed);
}

NearCacheCounters NearCache::counters() const {
  NearCacheCounters c;
  c.hits = hits_.load(std::memory_order_relaxed);
  c.misses = misses_.load(std::memory_order_relaxed);
  c.invalidations = invalidations_.load(std::memory_order_relaxed);
  c.flushes = flushes_.load(std::memory_order_relaxed);
  c.evictions = evictions_.load(std::memory_order_relaxed);
  c.refused_stores = refused_.load(std::memory_order_relaxed);
  c.entries = entries_.load(std::memory_order_relaxed);
  c.bytes = bytes_.load(std::memory_order_relaxed);
  return c;
}

}  // namespace asyncredis::detail
