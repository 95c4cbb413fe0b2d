// The cache's hit path: one GET whose handler is of the caller's type (no coroutine, no
// co_spawn), decoding a hit in place; a miss goes on to the coroutine machinery. Included at
// the end of cache_service.hpp. Not part of the API.
#pragma once

#include <concepts>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/cache/decoded_memo.hpp"

namespace asyncredis::detail {

// Whether this thread runs `executor` now (false when it cannot tell).
template <class Executor>
bool cache_running_in(const Executor& executor) noexcept {
  if constexpr (std::same_as<Executor, boost::asio::any_io_executor>) {
    const auto* io = executor.template target<boost::asio::io_context::executor_type>();
    return io != nullptr && io->running_in_this_thread();
  } else if constexpr (requires { executor.running_in_this_thread(); }) {
    return executor.running_in_this_thread();
  } else {
    return false;
  }
}

// Calls `handler` on its associated executor: directly when this thread runs it already (the
// normal case); a handler bound elsewhere (a strand, another context) is dispatched there.
template <class Handler, class... Args>
void cache_complete(Handler&& handler, const boost::asio::any_io_executor& fallback,
                    Args&&... args) {
  auto executor = boost::asio::get_associated_executor(handler, fallback);
  if (cache_running_in(executor)) {
    std::forward<Handler>(handler)(std::forward<Args>(args)...);
    return;
  }
  boost::asio::dispatch(
      executor, boost::asio::append(std::forward<Handler>(handler), std::forward<Args>(args)...));
}

// Completes `handler` (signature void(std::exception_ptr, R)) with R(the hit as T), or hands
// a miss, and an entry drawn for early refresh, to on_miss(handler, cache, entry, key). `memo`
// may answer a hit without decoding it (see MemoHandle).
template <class T, class R, class Handler, class OnMiss, class Memo>
class CacheLookup {
 public:
  CacheLookup(Handler handler, CacheService cache, std::string key, double early_refresh,
              OnMiss on_miss, Memo memo)
      : handler_(std::move(handler)),
        cache_(std::move(cache)),
        key_(std::move(key)),
        early_refresh_(early_refresh),
        on_miss_(std::move(on_miss)),
        memo_(std::move(memo)) {}

  // The GET's outcome (fast path).
  void operator()(std::exception_ptr error, std::optional<std::string> stored) {
    CacheEntry entry;
    try {
      entry = cache_.settle(std::move(error), std::move(stored), key_, early_refresh_);
    } catch (...) {
      cache_complete(std::move(handler_), cache_.get_executor(), std::current_exception(), R{});
      return;
    }
    (*this)(std::exception_ptr(), std::move(entry));
  }

  // A looked-up entry (the coroutine path of a namespaced service).
  void operator()(std::exception_ptr error, CacheEntry entry) {
    if (error) {
      cache_complete(std::move(handler_), cache_.get_executor(), std::move(error), R{});
      return;
    }
    if (entry.kind == CacheEntry::Kind::miss || entry.refresh_due) {
      std::move(on_miss_)(std::move(handler_), cache_, std::move(entry), std::move(key_));
      return;
    }
    std::exception_ptr failure;
    std::optional<R> value;
    try {
      value = memo_.recall(entry);
      if (!value) {
        value.emplace(CacheService::value_as<T>(cache_, entry, key_));
        memo_.remember(entry, key_, *value);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      cache_complete(std::move(handler_), cache_.get_executor(), std::move(failure), R{});
    } else {
      cache_complete(std::move(handler_), cache_.get_executor(), std::exception_ptr(),
                     std::move(*value));
    }
  }

  const Handler& handler() const noexcept { return handler_; }
  const std::string& key() const noexcept { return key_; }

 private:
  Handler handler_;
  CacheService cache_;
  std::string key_;
  double early_refresh_;
  OnMiss on_miss_;
  Memo memo_;
};

// Looks `key` up for `handler`; see CacheLookup.
template <class T, class R, class Handler, class OnMiss, class Memo>
void cache_start_lookup(const CacheService& cache, std::string key, double early_refresh,
                        Handler handler, OnMiss on_miss, Memo memo) {
  using Op = CacheLookup<T, R, std::decay_t<Handler>, OnMiss, Memo>;
  if (!cache.key_namespace().empty()) {
    // The key needs the namespace's generation first: the coroutine path.
    auto lookup = CacheService::lookup(cache, key, early_refresh);
    boost::asio::co_spawn(cache.get_executor(), std::move(lookup),
                          Op(std::move(handler), cache, std::move(key), early_refresh,
                             std::move(on_miss), std::move(memo)));
    return;
  }
  const std::string& prefix = cache.key_prefix();
  const Commands& commands = cache.commands();
  if (prefix.empty()) {
    Op op(std::move(handler), cache, std::move(key), early_refresh, std::move(on_miss),
          std::move(memo));
    // get() encodes the key before it takes the handler: op.key() is still valid then.
    commands.get(op.key(), std::move(op));
  } else {
    const std::string redis_key = prefix + key;
    commands.get(redis_key, Op(std::move(handler), cache, std::move(key), early_refresh,
                               std::move(on_miss), std::move(memo)));
  }
}

// get(): a miss completes with an empty R.
template <class R>
struct CacheMissIsEmpty {
  template <class Handler>
  void operator()(Handler&& handler, const CacheService& cache, CacheEntry&&, std::string&&) && {
    cache_complete(std::forward<Handler>(handler), cache.get_executor(), std::exception_ptr(), R());
  }
};

// get_or_set() and cached(): a miss runs make_compute()'s computation through the single
// flight machinery, in a coroutine that completes `handler`.
template <class R, class MakeCompute>
struct CacheFillOnMiss {
  GetOrSetOptions options;
  MakeCompute make_compute;
  std::uint64_t flights_seen;

  template <class Handler>
  void operator()(Handler&& handler, const CacheService& cache, CacheEntry&& entry,
                  std::string&& key) && {
    auto executor = cache.get_executor();
    auto fill = CacheService::fill_and_decode<R>(cache, std::move(key), std::move(entry), options,
                                                 std::move(make_compute)(), flights_seen);
    boost::asio::co_spawn(executor, std::move(fill), std::forward<Handler>(handler));
  }
};

}  // namespace asyncredis::detail

// The lookup's handler runs where the caller's would: same executor, allocator and
// cancellation slot.
template <template <class, class> class Associator, class T, class R, class Handler, class OnMiss,
          class Memo, class DefaultCandidate>
struct boost::asio::associator<
    Associator, asyncredis::detail::CacheLookup<T, R, Handler, OnMiss, Memo>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const asyncredis::detail::CacheLookup<T, R, Handler, OnMiss, Memo>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler());
  }
  static auto get(const asyncredis::detail::CacheLookup<T, R, Handler, OnMiss, Memo>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler(), c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler(), c);
  }
};
