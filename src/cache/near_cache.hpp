// NearCache: the process-local tier kept coherent by Redis's CLIENT TRACKING (issue 11).
//
// Decoded values (type-erased: the cache layer stores e.g. std::shared_ptr<const T>) by key,
// bounded by entries and bytes, least recently used first out. Split in shards by key hash,
// one mutex each, so readers on many threads rarely meet.
//
// Coherence is the point. An invalidation travels on another connection than the GET whose
// reply it concerns, so it can overtake that reply. A reader therefore calls begin_read()
// BEFORE it sends its GET: the key is marked pending, and an invalidate() or flush() that
// comes before finish_read() makes the ticket dirty, so the (possibly stale) reply is not
// stored. flush() also bumps the epoch: a ticket from an older epoch is refused whatever its
// key, which covers the "tracking lost" case (everything dropped, nothing read before may be
// stored).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace asyncredis::detail {

struct NearCacheLimits {
  std::size_t max_entries = 10'000;
  std::size_t max_bytes = 64u * 1024u * 1024u;  // value sizes as given plus key lengths
  std::size_t shards = 16;
};

// Counters since construction; entries and bytes are what is held now.
struct NearCacheCounters {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;         // expired entries included
  std::uint64_t invalidations = 0;  // keys named by invalidate() (held or not)
  std::uint64_t flushes = 0;
  std::uint64_t evictions = 0;       // pushed out by a bound
  std::uint64_t refused_stores = 0;  // finish_read() on a dirty or old-epoch ticket
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

class NearCache {
 public:
  using Clock = std::chrono::steady_clock;
  // A decoded value; never null once stored. A std::shared_ptr<const T> converts to it, and
  // std::static_pointer_cast<const T>(value) gives it back (the caller knows its T).
  using Value = std::shared_ptr<const void>;

  // What begin_read() hands out and finish_read() or abandon_read() takes back. Move-only in
  // spirit: each ticket must be given back exactly once, or its key stays marked pending
  // (harmless but for memory: stores of other readers of the key still work).
  struct Ticket {
    std::string key;
    std::uint64_t generation = 0;  // the key's pending generation when the read began
    std::uint64_t epoch = 0;
  };

  explicit NearCache(NearCacheLimits limits = {});
  NearCache(const NearCache&) = delete;
  NearCache& operator=(const NearCache&) = delete;

  // The value held for `key`, or null (a miss). An entry whose expiry is not after `now` is
  // a miss and is removed. A hit makes the entry the most recently used of its shard.
  Value lookup(std::string_view key, Clock::time_point now);

  // Marks `key` pending; call it before the request that reads the key is sent.
  Ticket begin_read(std::string_view key);
  // Stores `value` (`size` bytes, valid until `expiry`) for the ticket's key if nothing
  // invalidated the key, and nothing was flushed, since begin_read(). True when stored.
  // A null value, or one larger than a shard's byte share, is not stored (false).
  bool finish_read(Ticket ticket, Value value, std::size_t size, Clock::time_point expiry);
  // The read failed or its reply is not to be kept: forgets the ticket.
  void abandon_read(Ticket ticket);

  // Erases `keys` and dirties the pending tickets for them.
  void invalidate(std::span<const std::string> keys);
  void invalidate(std::string_view key);
  // Erases everything, dirties every pending ticket and bumps the epoch.
  void flush();
  // Bumped by every flush(); a ticket carries the epoch its read began in.
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }

  NearCacheCounters counters() const;

 private:
  struct Entry {
    std::string key;
    Value value;
    std::size_t bytes;
    Clock::time_point expiry;
  };
  struct Pending {
    std::size_t readers = 0;
    std::uint64_t generation = 0;  // bumped by each invalidation while readers are out
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const noexcept {
      return std::hash<std::string_view>{}(key);
    }
  };
  using Lru = std::list<Entry>;  // front: most recently used
  struct alignas(64) Shard {
    std::mutex mutex;
    Lru lru;
    std::unordered_map<std::string_view, Lru::iterator, Hash, std::equal_to<>> index;
    std::unordered_map<std::string, Pending, Hash, std::equal_to<>> pending;
    std::size_t bytes = 0;
  };

  Shard& shard_of(std::string_view key);
  // Under the shard's mutex.
  void erase(Shard& shard, Lru::iterator it);
  void invalidate_in(Shard& shard, std::string_view key);
  // Forgets the ticket's reader of its key; the caller holds the shard's mutex. True when no
  // invalidation of the key came since the ticket was handed out.
  bool release(Shard& shard, const Ticket& ticket);

  const std::size_t max_entries_per_shard_;
  const std::size_t max_bytes_per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::uint64_t> epoch_{0};

  std::atomic<std::uint64_t> hits_{0}, misses_{0}, invalidations_{0}, flushes_{0}, evictions_{0},
      refused_{0};
  std::atomic<std::size_t> entries_{0}, bytes_{0};
};

}  // namespace asyncredis::detail
