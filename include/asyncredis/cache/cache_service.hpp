// CacheService: JSON values in Redis with a default TTL, single-flight get_or_set, cached
// "not found" results, and invalidation by pattern (SCAN + UNLINK) or by namespace.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/deferred.hpp>

#include "asyncredis/cache/cache_options.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/detail/cache_values.hpp"
#include "asyncredis/detail/converting_handler.hpp"

namespace asyncredis {

class RedisClient;

namespace detail {
class CacheCore;
}  // namespace detail

template <class Fn, class Keep, class KeyFn>
class Cached;

/// JSON values in Redis with a default TTL, single-flight get_or_set, cached "not found"
/// results, and invalidation by pattern (SCAN + UNLINK) or by namespace.
///
/// Values are stored as JSON text (nlohmann::json, or any T with to_json/from_json), so the
/// Python service reads what this one writes. Two stored forms are this library's own, both
/// starting with a 0x00 byte that no JSON text starts with: a cached "not found", and a value
/// with the early-refresh header (GetOrSetOptions::early_refresh).
///
/// "Not found" is a std::nullopt: set(key, std::nullopt) or a get_or_set computation returning
/// an empty std::optional<U> stores it (with negative_ttl), and get<std::optional<U>> returns
/// it as an engaged optional holding std::nullopt: cached, not found. That is never a miss (an
/// empty outer optional) nor a stored JSON null (which is a value of U = nlohmann::json). Read
/// as a T that is not an optional, it is errc::decode_error.
///
/// Keys are options.key_prefix + key, or in a namespace
///
///     key_prefix + namespace + ':' + generation + ':' + key
///
/// where the generation is a counter at key_prefix + namespace + ":generation", kept on
/// Redis's clock: it starts at Redis's TIME in microseconds, and each invalidation moves it to
/// at least that clock before its INCR (one script each). The counter has no TTL (one small key
/// per namespace, kept until deleted), so a volatile-* maxmemory policy never evicts it; under
/// allkeys-* it may be evicted like any key, or it may be deleted by hand. Either way the next
/// read restarts it from Redis's clock, above every generation handed out before, so old
/// entries never become visible again: they stay unreachable and expire by their TTL. (What
/// would defeat this is Redis's clock going back, e.g. a fail-over to a replica whose clock is
/// behind, at the moment the counter is lost.)
///
/// With options.near_cache on, get(), get_or_set() and cached() first look in this process:
/// a value read before, decoded as the same T, is returned without a round trip for as long as
/// Redis has not said its key changed (see NearCacheOptions). Writes through the service
/// (set, del, expire, delete_pattern) drop the local copy at once; mget() reads Redis.
///
/// Every operation is an Asio asynchronous operation taking any completion token (deferred when
/// omitted; pass asio::use_awaitable in coroutines), with signature void(std::exception_ptr, R);
/// it may be started from any thread. Failures are asyncredis::Error: the client's errors
/// (errc::timeout, connection_lost, server_error, ... unless options.when_unavailable absorbs
/// them), errc::decode_error naming the key for a stored value that is not a T,
/// errc::invalid_argument for a bad TTL. The client must outlive the service and every
/// operation. A CacheService is cheap to copy; copies share statistics and in-flight
/// computations.
class CacheService {
 public:
  /// Entries without a TTL of their own live options.default_ttl, or when that is 0 the
  /// client's settings().default_ttl. Throws Error(errc::invalid_argument) naming the option
  /// for a negative default_ttl, a negative_ttl <= 0, a jitter outside [0, 1), a negative
  /// generation_refresh, or scan_count/unlink_batch 0; for a near cache with a bound of 0, a
  /// max_ttl <= 0, or on a client that has a ClientTracking already (one near-cached service
  /// per client: share it, its copies and namespace views share the near cache).
  explicit CacheService(RedisClient& client, CacheOptions options = {});
  /// Over any command surface (client.with(...), a Lease); `executor` runs the operations.
  /// Without a near cache: options.near_cache.enabled is Error(errc::invalid_argument).
  CacheService(Commands commands, boost::asio::any_io_executor executor, CacheOptions options = {});

  /// The same service with its keys in namespace `ns` (replacing the current one; "" for none).
  CacheService in_namespace(std::string ns) const;
  /// The namespace this service's keys live in ("" for none).
  const std::string& key_namespace() const noexcept { return namespace_; }
  /// The options it was made with (shared by its copies and namespace views).
  const CacheOptions& options() const noexcept;
  /// The counters shared by this service's copies and namespace views.
  CacheStats stats() const noexcept;
  /// The executor the operations run on.
  const boost::asio::any_io_executor& get_executor() const noexcept;

  /// The value at `key` as a T, or std::nullopt on a miss. See above for "not found".
  /// Signature void(std::exception_ptr, std::optional<T>); errc::decode_error naming the key
  /// when the stored value is not a T.
  template <class T = nlohmann::json, class Token = boost::asio::deferred_t>
  auto get(std::string_view key, Token&& token = {}) const {
    using R = std::optional<T>;
    return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
        [](auto handler, CacheService self, std::string key) {
          // No computation, but the caller's executor: the lookup's steps that touch the
          // caller's cancellation slot run there.
          detail::Computation computation;
          computation.executor = boost::asio::get_associated_executor(handler, self.get_executor());
          auto decoding = self.template decoding<R, true>(std::move(handler));
          self.start_lookup(std::move(key), typeid(T), GetOrSetOptions{}, std::move(computation),
                            std::move(decoding));
        },
        token, *this, std::string(key));
  }

  /// get<nlohmann::json>(key): the stored JSON as it is.
  template <class Token = boost::asio::deferred_t>
  auto get_json(std::string_view key, Token&& token = {}) const {
    return get<nlohmann::json>(key, std::forward<Token>(token));
  }

  /// Stores value's JSON for `ttl` (0: default_ttl; negative_ttl for a "not found"); an empty
  /// optional or std::nullopt stores "not found". Signature void(std::exception_ptr);
  /// errc::invalid_argument for a negative TTL or a value with no JSON text (a string that is
  /// not UTF-8).
  template <class T, class Token = boost::asio::deferred_t>
  auto set(std::string_view key, const T& value, std::chrono::milliseconds ttl,
           Token&& token = {}) const {
    return detail::cache_launch(get_executor(),
                                run_set(*this, std::string(key), encode(value), ttl),
                                std::forward<Token>(token));
  }
  /// set(key, value, ttl) with the default TTL (negative_ttl for a "not found").
  template <class T, class Token = boost::asio::deferred_t>
  requires(!std::convertible_to<Token, std::chrono::milliseconds>) auto set(
      std::string_view key, const T& value, Token&& token = {}) const {
    return set(key, value, std::chrono::milliseconds(0), std::forward<Token>(token));
  }

  /// Removes `key` (UNLINK): true when it existed. Signature void(std::exception_ptr, bool);
  /// fails with the client's errors even under treat_as_miss.
  template <class Token = boost::asio::deferred_t>
  auto del(std::string_view key, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_del(*this, std::string(key)),
                                std::forward<Token>(token));
  }

  /// Whether `key` holds an entry (a cached "not found" counts). Signature
  /// void(std::exception_ptr, bool).
  template <class Token = boost::asio::deferred_t>
  auto exists(std::string_view key, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_exists(*this, std::string(key)),
                                std::forward<Token>(token));
  }

  /// Sets `key`'s remaining lifetime (> 0): true when the key exists. Signature
  /// void(std::exception_ptr, bool); errc::invalid_argument for a TTL <= 0.
  template <class Token = boost::asio::deferred_t>
  auto expire(std::string_view key, std::chrono::milliseconds ttl, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_expire(*this, std::string(key), ttl),
                                std::forward<Token>(token));
  }

  /// One MGET: for each key, in order, what get<T> would return. Signature
  /// void(std::exception_ptr, std::vector<std::optional<T>>); one value that is not a T fails
  /// the whole call with errc::decode_error.
  template <class T = nlohmann::json, class Token = boost::asio::deferred_t>
  auto mget(std::vector<std::string> keys, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_mget<T>(*this, std::move(keys)),
                                std::forward<Token>(token));
  }

  /// The value at `key`; on a miss co_awaits compute() (a callable returning
  /// asio::awaitable<R>), stores its result and returns it. R = std::optional<U> caches an
  /// empty result as "not found". Callers for one key in this process share one computation
  /// (options.single_flight), run by the first of them:
  ///   - a waiting caller that is cancelled (its own deadline, ...) stops waiting, alone;
  ///   - if the running caller is cancelled, its computation is cancelled and a waiting
  ///     caller runs its own compute() for the others (none waiting: nothing more runs);
  ///   - after options.flight_timeout (CacheOptions::flight_timeout by default) every caller
  ///     sharing it fails with errc::timeout (the computation is cancelled) and the next
  ///     caller starts afresh;
  ///   - a computation that throws stores nothing and every caller sharing it gets its
  ///     exception;
  ///   - a set() or del() of the key, or a delete_pattern(), through this service (or a copy)
  ///     while it runs: its result goes to the callers that shared it but is not stored, and
  ///     callers from then on compute afresh.
  ///
  /// compute() runs on the handler's executor (the service's for a handler without one), where
  /// the caller's cancellation comes from. With early_refresh, a caller drawn to refresh a
  /// still-valid entry that fails to compute gets the old value. Errors: as above, and
  /// errc::invalid_argument for a negative flight_timeout.
  template <class T = detail::DeduceResult, class Compute, class Token = boost::asio::deferred_t>
  auto get_or_set(std::string_view key, GetOrSetOptions options, Compute compute,
                  Token&& token = {}) const {
    return get_or_set_if<T>(key, options, std::move(compute), detail::CacheAlways{},
                            std::forward<Token>(token));
  }
  /// get_or_set(key, options, compute), storing a computed result only when keep(result) is
  /// true (a const R& -> bool callable); the others are returned, and shared with the callers
  /// waiting for the same computation, but computed again next time. Same errors.
  template <class T = detail::DeduceResult, class Compute, class Keep,
            class Token = boost::asio::deferred_t>
  auto get_or_set_if(std::string_view key, GetOrSetOptions options, Compute compute, Keep keep,
                     Token&& token = {}) const {
    using R = std::conditional_t<std::same_as<T, detail::DeduceResult>,
                                 detail::awaitable_result_t<Compute&>, T>;
    static_assert(!std::is_void_v<R>, "get_or_set: the computation must return a value");
    return boost::asio::async_initiate<Token, void(std::exception_ptr, R)>(
        [](auto handler, CacheService self, std::string key, GetOrSetOptions options,
           Compute compute, Keep keep) {
          // Started only on a miss, on the caller's executor.
          detail::Computation computation{
              detail::cache_compute<R>(std::move(compute), std::move(keep)),
              boost::asio::get_associated_executor(handler, self.get_executor())};
          auto decoding = self.template decoding<R, false>(std::move(handler));
          self.start_lookup(std::move(key), typeid(R), options, std::move(computation),
                            std::move(decoding));
        },
        token, *this, std::string(key), options, std::move(compute), std::move(keep));
  }
  /// get_or_set(key, options, compute) with only a TTL (0: default_ttl) and the default options.
  template <class T = detail::DeduceResult, class Compute, class Token = boost::asio::deferred_t>
  auto get_or_set(std::string_view key, std::chrono::milliseconds ttl, Compute compute,
                  Token&& token = {}) const {
    GetOrSetOptions options;
    options.ttl = ttl;
    return get_or_set<T>(key, options, std::move(compute), std::forward<Token>(token));
  }

  /// Completes once every invalidation Redis sent before this call has reached the near
  /// cache: when another process says its write was acknowledged, a read after this never
  /// returns what the write replaced. At once without a near cache. Signature
  /// void(std::exception_ptr); the client's errors while the invalidation connection is down.
  template <class Token = boost::asio::deferred_t>
  auto sync_near_cache(Token&& token = {}) const {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, const CacheService& self) {
          self.start_near_sync(detail::NearSyncHandler(std::move(handler)));
        },
        token, *this);
  }

  /// Removes every key of this service (prefix and namespace applied) matching the glob
  /// `pattern`, with SCAN MATCH/COUNT followed to the end and UNLINK in batches: the server
  /// keeps answering other clients throughout. Returns how many keys were removed. The prefix
  /// and namespace are escaped, so their * ? [ ] \\ match only themselves. Signature
  /// void(std::exception_ptr, std::size_t).
  template <class Token = boost::asio::deferred_t>
  auto delete_pattern(std::string_view pattern, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_delete_pattern(*this, std::string(pattern)),
                                std::forward<Token>(token));
  }

  /// Invalidates every key of namespace `ns` at once: one INCR of its generation, which is
  /// part of every key in it (the old entries are no longer reachable and expire by their
  /// TTL). Returns the new generation. Cost: a namespaced operation reads the generation once
  /// per options.generation_refresh (one EVALSHA), so another process sees the invalidation
  /// within that time; this service sees it at once. A lost counter never brings old entries
  /// back (see the class comment). Signature void(std::exception_ptr, std::int64_t);
  /// errc::invalid_argument for an empty `ns`.
  template <class Token = boost::asio::deferred_t>
  auto invalidate_namespace(std::string_view ns, Token&& token = {}) const {
    return detail::cache_launch(get_executor(), run_invalidate_namespace(*this, std::string(ns)),
                                std::forward<Token>(token));
  }

 private:
  // Only for Cached::invalidate_all(), whose delete is limited to one key segment (see
  // run_delete_pattern); the hit path has no private door.
  template <class, class, class>
  friend class Cached;

  CacheService(std::shared_ptr<detail::CacheCore> core, std::string ns);
  // `client`: where the near cache tracks connections; null for a command view.
  CacheService(Commands commands, boost::asio::any_io_executor executor, CacheOptions options,
               RedisClient* client);

  template <class T>
  static detail::Computed encode(const T& value) {
    detail::Computed out;
    detail::cache_encode(value, out);
    return out;
  }

  // A lookup's entry as R, counting a failure as an error. Lookup: R = std::optional<T> for
  // get() and mget() (a miss is std::nullopt); otherwise (get_or_set's entry is never a miss)
  // the entry is an R itself. A value that is not one is errc::decode_error naming its key in
  // Redis.
  template <class R, bool Lookup>
  class Decode {
   public:
    explicit Decode(std::shared_ptr<detail::CacheCore> core) : core_(std::move(core)) {}
    R operator()(detail::CacheEntry&& entry) const {
      try {
        if constexpr (Lookup) {
          if (entry.kind == detail::CacheEntry::Kind::miss) return R();
          return R(detail::cache_value_as<typename R::value_type>(entry, entry.redis_key));
        } else {
          return detail::cache_value_as<R>(entry, entry.redis_key);
        }
      } catch (...) {
        count_error(core_);
        throw;
      }
    }

   private:
    std::shared_ptr<detail::CacheCore> core_;
  };

  // `handler` (signature void(std::exception_ptr, R)) as a lookup's handler, which decodes.
  template <class R, bool Lookup, class Handler>
  detail::EntryHandler decoding(Handler&& handler) const {
    using Converting =
        detail::ConvertingHandler<R, std::decay_t<Handler>, Decode<R, Lookup>, detail::CacheEntry>;
    return detail::EntryHandler(
        Converting(std::forward<Handler>(handler), Decode<R, Lookup>(core_)));
  }

  // The one lookup of get, get_or_set and cached() (src/cache/lookup.cpp): builds the key in
  // Redis (a namespace's generation is one step before), asks the near cache for a value
  // decoded as `value_type`, else GETs it through the public commands, and completes `handler`
  // with the entry. A miss, or a value drawn for early refresh, with a
  // computation goes through the single-flight fill first. Redis errors are absorbed as misses
  // when the policy says so.
  void start_lookup(std::string key, const std::type_info& value_type,
                    const GetOrSetOptions& options, detail::Computation computation,
                    detail::EntryHandler handler) const;
  struct Lookup;  // one lookup in progress (src/cache/lookup.cpp)
  void start_near_sync(detail::NearSyncHandler handler) const;

  template <class T>
  static boost::asio::awaitable<std::vector<std::optional<T>>> run_mget(
      CacheService self, std::vector<std::string> keys) {
    std::vector<detail::CacheEntry> entries = co_await lookup_many(self, keys);
    const Decode<std::optional<T>, true> decode(self.core_);
    std::vector<std::optional<T>> out;
    out.reserve(entries.size());
    for (detail::CacheEntry& entry : entries) out.push_back(decode(std::move(entry)));
    co_return out;
  }

  // The non-template machinery (src/cache/).
  static boost::asio::awaitable<std::vector<detail::CacheEntry>> lookup_many(
      CacheService self, std::vector<std::string> keys);
  static boost::asio::awaitable<detail::CacheEntry> fill(
      CacheService self, std::string key, detail::CacheEntry missed, GetOrSetOptions options,
      boost::asio::awaitable<detail::Computed> compute, std::uint64_t flights_seen);
  static boost::asio::awaitable<void> run_set(CacheService self, std::string key,
                                              detail::Computed value,
                                              std::chrono::milliseconds ttl);
  static boost::asio::awaitable<bool> run_del(CacheService self, std::string key);
  static boost::asio::awaitable<bool> run_exists(CacheService self, std::string key);
  static boost::asio::awaitable<bool> run_expire(CacheService self, std::string key,
                                                 std::chrono::milliseconds ttl);
  // delete_pattern(); with `one_segment_from`, only keys with no ':' from that offset of the
  // key under this service's common_prefix on (the keys of one cached() memoizer, not of another
  // whose prefix extends it).
  static boost::asio::awaitable<std::size_t> run_delete_pattern(
      CacheService self, std::string pattern, std::size_t one_segment_from = std::string::npos);
  static boost::asio::awaitable<std::int64_t> run_invalidate_namespace(CacheService self,
                                                                       std::string ns);
  // The key in Redis of `key` in this service's namespace (reads the generation if needed).
  static boost::asio::awaitable<std::string> redis_key(CacheService self, std::string key);
  static boost::asio::awaitable<std::string> keys_common_prefix(CacheService self);

  static void count_error(const std::shared_ptr<detail::CacheCore>& core) noexcept;

  std::shared_ptr<detail::CacheCore> core_;
  std::string namespace_;
};

}  // namespace asyncredis
