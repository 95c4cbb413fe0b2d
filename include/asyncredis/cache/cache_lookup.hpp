// The cache's hit path: one GET whose handler is of the caller's type (no coroutine, no
// co_spawn), decoding a hit in place; a miss goes on to the coroutine machinery. Included at
// the end of cache_service.hpp. Not part of the API.
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/system_executor.hpp>

#include "asyncredis/cache/cache_service.hpp"

namespace asyncredis::detail {

// Calls `handler`, from a completion that runs on its associated executor. A handler without
// one belongs on the service's executor, which need not be the client's (that ran the GET's
// completion): it is called directly when this thread may run it (the usual case), else
// dispatched there. (Associating the lookup with the service's executor instead costs an
// executor conversion on every hit.)
template <class Handler, class... Args>
void cache_complete(Handler&& handler, const CacheService& cache, Args&&... args) {
  using Own =
      boost::asio::associated_executor_t<std::decay_t<Handler>, boost::asio::system_executor>;
  if constexpr (std::is_same_v<Own, boost::asio::system_executor>) {
    if (!cache.runs_unbound_handlers_here()) {
      boost::asio::dispatch(
          cache.get_executor(),
          boost::asio::append(std::forward<Handler>(handler), std::forward<Args>(args)...));
      return;
    }
  }
  std::forward<Handler>(handler)(std::forward<Args>(args)...);
}

// What a lookup asks of the operation that started it (its "source"):
//   const CacheService& cache() const;  std::string_view key() const;
//   std::string_view encoded_get() const;  // CacheService::encode_get(key()) kept alive, or
//                                          // empty: the lookup encodes it
//   double early_refresh() const;
//   std::optional<R> recall(std::string_view json) const;  // a hit's value known without decoding
//   void remember(const CacheEntry&, const R&);            // a hit's value just decoded
//   void miss(Handler&&, CacheEntry&&) &&;                 // a miss, or an entry due for refresh
// The key must stay valid while the source moves (it is encoded before the GET takes the
// lookup, and the source keeps it, or what owns it, alive).
//
// The lookup is itself a completion handler with the caller's handler's executor: a handler
// with an executor of its own is called directly (the lookup already runs there); one without
// runs on the service's executor (see cache_complete).

// Completes `handler` (signature void(std::exception_ptr, R)) with R(the hit as T), or hands
// a miss, and an entry drawn for early refresh, to the source.
template <class T, class R, class Handler, class Source>
class CacheLookup {
 public:
  CacheLookup(Handler handler, Source source)
      : handler_(std::move(handler)), source_(std::move(source)) {}

  // The GET's outcome (fast path).
  void operator()(std::exception_ptr error, std::optional<std::string> stored) {
    std::optional<R> value;
    try {
      // The text the source remembers, byte for byte, as plain JSON: no header to parse, so
      // no early refresh can be due.
      if (!error && stored && stored_as_plain_json(*stored)) value = source_.recall(*stored);
    } catch (...) {
      // Only copying the remembered value throws: the text was a hit.
      source_.cache().count_hit();
      fail(std::current_exception());
      return;
    }
    if (value) {
      source_.cache().count_hit();
      succeed(std::move(*value));
      return;
    }
    CacheEntry entry;
    try {
      source_.cache().settle(std::move(error), std::move(stored), source_.key(),
                             source_.early_refresh(), entry);
    } catch (...) {
      fail(std::current_exception());
      return;
    }
    finish(entry);
  }

  // A looked-up entry (the coroutine path of a namespaced service).
  void operator()(std::exception_ptr error, CacheEntry entry) {
    if (error) {
      fail(std::move(error));
      return;
    }
    finish(entry);
  }

  const Handler& handler() const noexcept { return handler_; }
  const Source& source() const noexcept { return source_; }

 private:
  void finish(CacheEntry& entry) {
    if (entry.kind == CacheEntry::Kind::miss || entry.refresh_due) {
      std::move(source_).miss(std::move(handler_), std::move(entry));
      return;
    }
    std::exception_ptr failure;
    std::optional<R> value;
    try {
      if (entry.kind == CacheEntry::Kind::value) value = source_.recall(entry.json);
      if (!value) {
        value.emplace(CacheService::value_as<T>(source_.cache(), entry, source_.key()));
        source_.remember(entry, *value);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      fail(std::move(failure));
    } else {
      succeed(std::move(*value));
    }
  }

  void succeed(R&& value) {
    cache_complete(std::move(handler_), source_.cache(), std::exception_ptr(), std::move(value));
  }
  void fail(std::exception_ptr error) {
    cache_complete(std::move(handler_), source_.cache(), std::move(error), R{});
  }

  Handler handler_;
  Source source_;
};

// Looks the source's key up for `handler`; see CacheLookup. `cache` is the source's service,
// valid until this returns.
template <class T, class R, class Handler, class Source>
void cache_start_lookup(const CacheService& cache, Handler&& handler, Source&& source) {
  using Op = CacheLookup<T, R, std::decay_t<Handler>, std::decay_t<Source>>;
  if (!cache.key_namespace().empty()) {
    // The key needs the namespace's generation first: the coroutine path.
    auto lookup = CacheService::lookup(cache, std::string(source.key()), source.early_refresh());
    boost::asio::co_spawn(cache.get_executor(), std::move(lookup),
                          Op(std::forward<Handler>(handler), std::move(source)));
    return;
  }
  Op op(std::forward<Handler>(handler), std::move(source));
  // A memoized call's GET is sent as its memo entry holds it, which the lookup keeps alive
  // until it completes, after the request has been read; other lookups encode theirs now.
  EncodedGet get{op.source().encoded_get(), {}};
  if (get.borrowed.empty()) get.owned = cache.encode_get(op.source().key());
  cache.commands().get(std::move(get), std::move(op));
}

// Runs a miss's fill (see CacheService::fill_and_decode) in a coroutine that completes
// `handler`, on the handler's executor (the service's for a handler without one): the caller
// cancels from there, and the fill's cancellation handlers must not race with that.
template <class R, class Handler>
void cache_fill(const CacheService& cache, std::string key, CacheEntry&& missed,
                const GetOrSetOptions& options, boost::asio::awaitable<Computed> compute,
                std::uint64_t flights_seen, Handler&& handler) {
  auto fill = CacheService::fill_and_decode<R>(cache, std::move(key), std::move(missed), options,
                                               std::move(compute), flights_seen);
  auto executor = boost::asio::get_associated_executor(handler, cache.get_executor());
  boost::asio::co_spawn(std::move(executor), std::move(fill), std::forward<Handler>(handler));
}

// What CacheService's own sources remember: nothing (only cached() keeps a memo).
template <class R>
struct CacheNoMemo {
  static std::optional<R> recall(std::string_view) noexcept { return std::nullopt; }
  static void remember(const CacheEntry&, const R&) noexcept {}
};

// The parts of a source for CacheService's own operations.
class CacheKeySource {
 public:
  CacheKeySource(CacheService cache, std::string key, double early_refresh)
      : cache_(std::move(cache)), key_(std::move(key)), early_refresh_(early_refresh) {}
  const CacheService& cache() const noexcept { return cache_; }
  std::string_view key() const noexcept { return key_; }
  static std::string_view encoded_get() noexcept { return {}; }
  double early_refresh() const noexcept { return early_refresh_; }

 protected:
  CacheService cache_;
  std::string key_;
  double early_refresh_;
};

// get(): a miss completes with an empty R; nothing is remembered.
template <class R>
class CacheGetSource : public CacheKeySource, public CacheNoMemo<R> {
 public:
  using CacheKeySource::CacheKeySource;
  template <class Handler>
  void miss(Handler&& handler, CacheEntry&&) && {
    cache_complete(std::forward<Handler>(handler), cache_, std::exception_ptr(), R());
  }
};

// get_or_set(): a miss runs make_compute()'s computation through the single flight
// machinery, in a coroutine that completes the handler.
template <class R, class MakeCompute>
class CacheFillSource : public CacheKeySource, public CacheNoMemo<R> {
 public:
  CacheFillSource(CacheService cache, std::string key, GetOrSetOptions options,
                  MakeCompute make_compute, std::uint64_t flights_seen)
      : CacheKeySource(std::move(cache), std::move(key), options.early_refresh),
        options_(options),
        make_compute_(std::move(make_compute)),
        flights_seen_(flights_seen) {}
  template <class Handler>
  void miss(Handler&& handler, CacheEntry&& entry) && {
    cache_fill<R>(cache_, std::move(key_), std::move(entry), options_, std::move(make_compute_)(),
                  flights_seen_, std::forward<Handler>(handler));
  }

 private:
  GetOrSetOptions options_;
  MakeCompute make_compute_;
  std::uint64_t flights_seen_;
};

}  // namespace asyncredis::detail

// The lookup's handler runs where the caller's would: same executor, allocator and
// cancellation slot.
template <template <class, class> class Associator, class T, class R, class Handler, class Source,
          class DefaultCandidate>
struct boost::asio::associator<Associator, asyncredis::detail::CacheLookup<T, R, Handler, Source>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const asyncredis::detail::CacheLookup<T, R, Handler, Source>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler());
  }
  static auto get(const asyncredis::detail::CacheLookup<T, R, Handler, Source>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler(), c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler(), c);
  }
};
