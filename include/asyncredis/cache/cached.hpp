// cached(): a memoizer for asynchronous functions, keyed by their arguments.
//
//   auto get_user = asyncredis::cached(cache, "user", std::chrono::minutes(10),
//       [&](std::int64_t id) -> asio::awaitable<std::optional<User>> { co_return ...; });
//   std::optional<User> u = co_await get_user(42);      // cached, or computed and stored
//   co_await get_user.invalidate(42);                   // deletes exactly that key
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/cache/key_builder.hpp"
#include "asyncredis/detail/split_token.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/scan.hpp"

namespace asyncredis {

namespace detail {

// How an argument is kept until the computation runs: text is owned, so a computation that
// runs after the caller's string is gone (a callback caller) still sees it.
template <class T, class D = std::decay_t<T>>
using cached_stored_t = std::conditional_t<std::same_as<D, const char*> || std::same_as<D, char*> ||
                                               std::same_as<D, std::string_view>,
                                           std::string, D>;

template <class Fn, class... Args>
concept CachedInvocable = std::is_invocable_v < const Fn&,
        const cached_stored_t<Args>
&... > ;

template <class Fn, class Tuple, class Seq>
struct CachedInitInvocable;
template <class Fn, class Tuple, std::size_t... I>
struct CachedInitInvocable<Fn, Tuple, std::index_sequence<I...>>
    : std::bool_constant<CachedInvocable<Fn, std::tuple_element_t<I, Tuple>...>> {};

// The last of `Xs` is a completion token when the function cannot take it as an argument but
// takes all the others.
template <class Fn, class... Xs>
constexpr bool cached_ends_with_token() {
  if constexpr (sizeof...(Xs) == 0) {
    return false;
  } else if constexpr (CachedInvocable<Fn, Xs...>) {
    return false;
  } else {
    return CachedInitInvocable<Fn, std::tuple<Xs...>,
                               std::make_index_sequence<sizeof...(Xs) - 1>>::value;
  }
}

struct CachedDigest {
  template <class... Args>
  std::string operator()(const Args&... args) const {
    return KeyBuilder::digest(args...);
  }
};

// A SCAN MATCH glob for exactly one digest: 64 lowercase hex digits.
std::string cached_digest_glob();
// Throws Error(errc::invalid_argument) naming `prefix` for a key function's result that is
// empty or holds a ':'.
void cached_check_own_key(std::string_view prefix, std::string_view own);

}  // namespace detail

/// The memoized function; see cached(). Cheap to copy (copies share the function). Calls may
/// be made from any thread; the function must be callable as const.
///
///     auto get_user = asyncredis::cached(cache, "user", std::chrono::minutes(10),
///         [&](std::int64_t id) -> asio::awaitable<std::optional<User>> { co_return ...; });
///     std::optional<User> u = co_await get_user(42);      // cached, or computed and stored
///     co_await get_user.invalidate(42);                   // deletes exactly that key
template <class Fn, class Keep = detail::CacheAlways, class KeyFn = detail::CachedDigest>
class Cached {
 public:
  /// As cached(cache, prefix, ttl, fn): throws Error(errc::invalid_argument) for an empty prefix
  /// or a negative TTL.
  Cached(CacheService cache, std::string prefix, std::chrono::milliseconds ttl, Fn fn)
      : Cached(validated_state(std::move(cache), std::move(prefix), ttl, std::move(fn))) {}

  /// fn(args...)'s result R, from the cache or computed (and stored for the TTL). The last
  /// argument may be a completion token, signature void(std::exception_ptr, R); without one
  /// the result is an asio::awaitable<R>. A std::optional<U> result that is empty is cached as
  /// "not found" (for the service's negative_ttl). Errors: those of CacheService::get_or_set
  /// (Redis errors, errc::decode_error for a stored value that is not an R) and whatever fn
  /// throws, which is never cached.
  template <class... Xs>
  auto operator()(Xs&&... xs) const {
    return detail::call_with_token<detail::cached_ends_with_token<Fn, Xs...>()>(
        [this](auto&& token, auto&&... args) {
          return call(std::forward<decltype(token)>(token), std::forward<decltype(args)>(args)...);
        },
        boost::asio::use_awaitable, std::forward<Xs>(xs)...);
  }

  /// The key a call with `args` uses, as passed to the CacheService (which adds its key_prefix
  /// and namespace): "<prefix>:<digest of args>", or "<prefix>:<key function's result>". Throws
  /// Error(errc::invalid_argument) for a key function's result that is empty or holds a ':'
  /// (it could then be another memoizer's key: see invalidate_all()).
  template <class... Args>
  std::string key_for(const Args&... args) const {
    if constexpr (std::same_as<KeyFn, detail::CachedDigest>) {
      detail::KeyScratch scratch;  // the key is the only allocation
      detail::key_encode_all(scratch.buffer(), args...);
      return detail::key_make(state_->prefix, scratch.buffer());
    } else {
      std::string key = state_->prefix;
      key += ':';
      const std::size_t own = key.size();
      key += std::invoke(state_->key_fn, args...);
      detail::cached_check_own_key(state_->prefix, std::string_view(key).substr(own));
      return key;
    }
  }

  /// Deletes the entry of a call with `args` (the key of key_for): true when there was one.
  /// The last argument may be a completion token (void(std::exception_ptr, bool)); without one
  /// the result is an asio::awaitable<bool>. Fails with the client's errors.
  template <class... Xs>
  auto invalidate(Xs&&... xs) const {
    return detail::call_with_token<detail::cached_ends_with_token<Fn, Xs...>()>(
        [this](auto&& token, const auto&... args) {
          return state_->cache.del(key_for(args...), std::forward<decltype(token)>(token));
        },
        boost::asio::use_awaitable, std::forward<Xs>(xs)...);
  }

  /// Deletes every entry of this memoizer (SCAN and UNLINK, as CacheService::delete_pattern):
  /// how many were removed. Only its own: "<prefix>:" and a digest (a key function's result,
  /// which holds no ':'), so a memoizer whose prefix extends this one's ("user:posts" of
  /// "user") keeps its entries. Without a token the result is an asio::awaitable<std::size_t>;
  /// with one, void(std::exception_ptr, std::size_t). Fails with the client's errors.
  template <class Token = boost::asio::use_awaitable_t<>>
  auto invalidate_all(Token&& token = {}) const {
    const CacheService& cache = state_->cache;
    std::string pattern = escape_glob(state_->prefix + ":");
    if constexpr (std::same_as<KeyFn, detail::CachedDigest>) {
      pattern += detail::cached_digest_glob();
      return detail::cache_launch(cache.get_executor(),
                                  CacheService::run_delete_pattern(cache, std::move(pattern)),
                                  std::forward<Token>(token));
    } else {
      pattern += '*';
      return detail::cache_launch(
          cache.get_executor(),
          CacheService::run_delete_pattern(cache, std::move(pattern), state_->prefix.size() + 1),
          std::forward<Token>(token));
    }
  }

  /// A copy that stores a result only when keep(result) is true (the others are returned, and
  /// shared with concurrent callers, but computed again next time).
  template <class K>
  Cached<Fn, std::decay_t<K>, KeyFn> cache_if(K&& keep) const {
    using Other = Cached<Fn, std::decay_t<K>, KeyFn>;
    const State& s = *state_;
    return Other(
        typename Other::State{s.cache, s.prefix, s.fn, std::forward<K>(keep), s.key_fn, s.options});
  }

  /// A copy whose keys are "<prefix>:" + key_fn(args...) (a std::string, non-empty and
  /// without ':'; a call whose key is not fails with errc::invalid_argument) instead of the
  /// digest, e.g. to share keys with another service: key_with([](int id) { return
  /// std::to_string(id); }) gives "user:42".
  template <class K>
  Cached<Fn, Keep, std::decay_t<K>> key_with(K&& key_fn) const {
    using Other = Cached<Fn, Keep, std::decay_t<K>>;
    const State& s = *state_;
    return Other(
        typename Other::State{s.cache, s.prefix, s.fn, s.keep, std::forward<K>(key_fn), s.options});
  }

  /// A copy with single flight on (the default) or off.
  Cached single_flight(bool on) const {
    State s = *state_;
    s.options.single_flight = on;
    return Cached(std::move(s));
  }

  /// A copy whose shared computations have this time limit (GetOrSetOptions::flight_timeout;
  /// 0: the service's). Throws Error(errc::invalid_argument) for a negative limit.
  Cached flight_timeout(std::chrono::milliseconds limit) const {
    if (limit.count() < 0) {
      throw Error(errc::invalid_argument, "cached: flight_timeout must not be negative, got " +
                                              std::to_string(limit.count()) + " ms");
    }
    State s = *state_;
    s.options.flight_timeout = limit;
    return Cached(std::move(s));
  }

  /// A copy with probabilistic early refresh (XFetch, see GetOrSetOptions::early_refresh):
  /// beta 1 is the usual choice, 0 turns it off. Throws Error(errc::invalid_argument) for a
  /// negative beta.
  Cached early_refresh(double beta) const {
    if (!(beta >= 0)) throw Error(errc::invalid_argument, "cached: early_refresh must be >= 0");
    State s = *state_;
    s.options.early_refresh = beta;
    return Cached(std::move(s));
  }

  /// The service the entries are stored through.
  const CacheService& cache() const noexcept { return state_->cache; }
  /// The prefix of this memoizer's keys, without the ':'.
  const std::string& prefix() const noexcept { return state_->prefix; }
  /// The entries' lifetime (0: the service's default_ttl).
  std::chrono::milliseconds ttl() const noexcept { return state_->options.ttl; }

 private:
  template <class, class, class>
  friend class Cached;

  struct State {
    CacheService cache;
    std::string prefix;
    Fn fn;
    Keep keep;
    KeyFn key_fn;
    GetOrSetOptions options;
  };

  explicit Cached(State state) : state_(std::make_shared<const State>(std::move(state))) {}

  static State validated_state(CacheService cache, std::string prefix,
                               std::chrono::milliseconds ttl, Fn fn) {
    // An empty prefix would make invalidate_all() a delete of every key of the service.
    if (prefix.empty()) throw Error(errc::invalid_argument, "cached: the prefix is empty");
    if (ttl.count() < 0) {
      throw Error(errc::invalid_argument, "cached: the TTL must not be negative, got " +
                                              std::to_string(ttl.count()) + " ms");
    }
    GetOrSetOptions options;
    options.ttl = ttl;
    return State{std::move(cache), std::move(prefix), std::move(fn), Keep{}, KeyFn{}, options};
  }

  // One call: its key, and the computation for a miss (fn on the arguments, which it keeps:
  // it may run after the caller's strings are gone), through CacheService::get_or_set_if.
  template <class Token, class... Args>
  auto call(Token&& token, Args&&... args) const {
    static_assert(detail::CachedInvocable<Fn, Args...>,
                  "cached: the function cannot be called with these arguments");
    using R = detail::awaitable_result_t<const Fn&, const detail::cached_stored_t<Args>&...>;
    static_assert(!std::is_void_v<R>, "cached: the function must return a value");
    using Stored = std::tuple<detail::cached_stored_t<Args>...>;
    const std::string key = key_for(args...);  // before the arguments move into Stored
    const State& s = *state_;
    auto compute = [state = state_, stored = Stored(std::forward<Args>(args)...)]() {
      return std::apply([&state](const auto&... a) { return std::invoke(state->fn, a...); },
                        stored);
    };
    return s.cache.template get_or_set_if<R>(key, s.options, std::move(compute), s.keep,
                                             std::forward<Token>(token));
  }

  std::shared_ptr<const State> state_;
};

/// Memoizes `fn`, any callable returning asio::awaitable<R>, in `cache` under keys
/// "<prefix>:<SHA-256 of the arguments>" (see KeyBuilder) for `ttl` (0: the service's
/// default_ttl). Single flight is on; see Cached for the options. Throws
/// Error(errc::invalid_argument) for an empty prefix or a negative TTL.
template <class Fn>
Cached<std::decay_t<Fn>> cached(CacheService cache, std::string prefix,
                                std::chrono::milliseconds ttl, Fn&& fn) {
  return Cached<std::decay_t<Fn>>(std::move(cache), std::move(prefix), ttl, std::forward<Fn>(fn));
}

}  // namespace asyncredis
