// CacheService's options and statistics.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace asyncredis {

/// What a CacheService does when Redis cannot be reached (not connected, connection lost,
/// timeout, an I/O error, or a server that cannot serve now: LOADING, BUSY, MASTERDOWN,
/// READONLY, ...).
enum class WhenUnavailable {
  fail,           ///< the operation fails with the client's error
  treat_as_miss,  ///< reads are misses, get_or_set computes without storing, set() is skipped;
                  ///< invalidations (del, expire, delete_pattern, invalidate_namespace) still
                  ///< fail, so a lost invalidation is never silent. Each such error is counted.
};

/// The near cache: decoded values kept in this process and served without a round trip, kept
/// coherent by Redis (CLIENT TRACKING; see ClientTracking). Off unless `enabled`.
///
/// A value read from Redis is kept until Redis says its key changed (written, deleted,
/// expired, evicted, flushed), until `max_ttl`, or until the key's own TTL as it was when
/// read, whichever comes first; the least recently used entries go when a bound is reached.
/// Whenever Redis may have stopped telling (a connection lost, tracking refused), everything
/// kept is dropped, and nothing is kept until tracking is back on every connection.
struct NearCacheOptions {
  /// Whether reads go through the near cache.
  bool enabled = false;
  /// At most this many entries...
  std::size_t max_entries = 10'000;
  /// ... and at most this many bytes (stored sizes of the values plus their keys).
  std::size_t max_bytes = 64u * 1024u * 1024u;
  /// The longest an entry is kept: a bound on staleness should an invalidation ever be lost.
  std::chrono::milliseconds max_ttl{std::chrono::seconds(60)};
  /// How Redis tracks what this process keeps.
  enum class Mode : std::uint8_t {
    /// Redis remembers every key this client read and reports changes to those only.
    tracking,
    /// BCAST: Redis reports every change of a key under CacheOptions::key_prefix (of every
    /// key when the prefix is empty), read or not: no memory on the server, more messages.
    broadcast,
  };
  Mode mode = Mode::tracking;  ///< tracking unless writes are rare and keys many
};

/// What a CacheService stores and how; checked by its constructor.
struct CacheOptions {
  /// Lifetime of entries written without an explicit TTL; 0 (the default): the client's
  /// RedisSettings::default_ttl (300 s unless configured, as the Python service), or 300 s
  /// for a service made over a command view. options() shows the lifetime in use.
  std::chrono::milliseconds default_ttl{0};
  /// Lifetime of a cached "not found" (a std::nullopt result).
  std::chrono::milliseconds negative_ttl{std::chrono::seconds(60)};
  /// Prepended verbatim to every key ("myapp:"). Empty by default, so keys match the Python
  /// service's ("user:<...>").
  std::string key_prefix;
  /// The namespace every key lives in (see CacheService::in_namespace); empty: none.
  std::string key_namespace;
  /// Each TTL is shortened by a random fraction in [0, ttl_jitter), so entries written together
  /// do not expire together. 0 (off) to < 1.
  double ttl_jitter = 0.0;
  /// What happens when Redis is unreachable; fail by default.
  WhenUnavailable when_unavailable = WhenUnavailable::fail;
  /// How long a namespace's generation, once read, is reused by this service before it is read
  /// again. An invalidate_namespace() here takes effect at once; one made by another process
  /// is seen within this time. 0: read before every operation (one more round trip each).
  std::chrono::milliseconds generation_refresh{std::chrono::seconds(1)};
  /// The time limit of a single-flight computation (get_or_set, cached()), from its start:
  /// callers waiting for it fail with errc::timeout then, its leader's computation is cancelled
  /// (the leader fails with errc::timeout once it has stopped), and the key is free for a new
  /// computation. GetOrSetOptions::flight_timeout overrides it per call.
  std::chrono::milliseconds flight_timeout{std::chrono::seconds(30)};
  /// delete_pattern(): SCAN's COUNT hint.
  std::size_t scan_count = 1000;
  /// delete_pattern(): how many keys go in one UNLINK.
  std::size_t unlink_batch = 500;
  /// The process-local tier in front of Redis; off by default. Needs the service to be made
  /// from a RedisClient (it tracks the client's connections), one such service per client.
  NearCacheOptions near_cache;
};

/// Counters since the service was made; shared by its copies and namespace views. Each field
/// is read atomically, the fields together are not a snapshot.
struct CacheStats {
  std::uint64_t hits = 0;                ///< a value was found
  std::uint64_t misses = 0;              ///< nothing was found (or Redis was unreachable)
  std::uint64_t negative_hits = 0;       ///< a cached "not found" was found
  std::uint64_t sets = 0;                ///< entries written (values and "not found" markers)
  std::uint64_t errors = 0;              ///< Redis failures (returned or absorbed), bad values,
                                         ///< and failed early refreshes that served the old value
  std::uint64_t computations = 0;        ///< get_or_set / cached() computations started
  std::uint64_t waits = 0;               ///< callers that waited for another caller's computation
  std::uint64_t early_refreshes = 0;     ///< of those, early refreshes of an entry still valid
  std::uint64_t near_hits = 0;           ///< reads answered by the near cache (also counted in hits
                                         ///< or negative_hits)
  std::uint64_t near_misses = 0;         ///< reads the near cache could not answer, tracking on
  std::uint64_t near_invalidations = 0;  ///< keys Redis said changed (or written here)
  std::uint64_t near_flushes = 0;        ///< times the near cache was emptied (flush, lost)
  std::uint64_t near_evictions = 0;      ///< entries pushed out by max_entries or max_bytes
  std::size_t near_entries = 0;          ///< entries held now
  std::size_t near_bytes = 0;            ///< bytes held now
};

/// Per-call options of CacheService::get_or_set.
struct GetOrSetOptions {
  /// The entry's lifetime; 0: the service's default_ttl. A "not found" uses negative_ttl.
  std::chrono::milliseconds ttl{0};
  /// Concurrent callers for one key in this process share one computation (see
  /// CacheService::get_or_set for cancellation, the time limit and invalidation).
  bool single_flight = true;
  /// The time limit of that shared computation; 0: the service's CacheOptions::flight_timeout.
  /// Computations without single flight have none (each is its own caller's).
  std::chrono::milliseconds flight_timeout{0};
  /// Probabilistic early expiration (XFetch): a hit recomputes when
  ///
  ///     now - delta * early_refresh * ln(random) >= expiry
  ///
  /// (delta: how long the computation took, stored with the value). 0: off; 1 is the usual
  /// choice, larger refreshes earlier. Entries written with it on carry delta and expiry in a
  /// small header before the JSON, which only this library reads.
  double early_refresh = 0.0;
};

}  // namespace asyncredis
