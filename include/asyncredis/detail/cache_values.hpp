// What the cache's public templates need and nothing more: the entry a lookup completes with,
// the JSON conversions of T, the compute step, the type-erased handler the templates hand to
// src/cache, and how an operation is started for a completion token. Not part of the API.
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/reply.hpp"  // detail::IsOptional

namespace asyncredis::detail {

enum class CacheEntryKind : std::uint8_t { miss, value, not_found };

// A value the near cache keeps, decoded: what it was decoded as, then (NearValueOf<T>) the
// value. Read back only as the same type.
struct NearValue {
  const std::type_info* type = nullptr;
  CacheEntryKind kind = CacheEntryKind::value;
  // The early-refresh header stored with the value, if any (0: none).
  std::int64_t refresh_delta_ms = 0;
  std::int64_t refresh_expiry_ms = 0;
};
template <class T>
struct NearValueOf : NearValue {
  T value;
};

// A read whose reply the near cache may keep (src/cache/near_tier.cpp): given up when the
// last reference goes, unless the decoded value was kept first.
struct NearRead;

// One cache entry as read from Redis, or as computed.
struct CacheEntry {
  using Kind = CacheEntryKind;
  Kind kind = Kind::miss;
  std::string json;          // Kind::value: the JSON text (empty when `near` holds the value)
  std::string redis_key;     // the key in Redis (prefix and namespace applied); empty if unknown
  bool unavailable = false;  // a miss because Redis was unreachable (treat_as_miss): no write
  bool refresh_due = false;  // a value whose early refresh (XFetch) was drawn
  std::shared_ptr<const NearValue> near;  // a near-cache hit: the value, decoded already
  std::shared_ptr<NearRead> near_read;    // a read from Redis the near cache may keep
};

// How CacheService::sync_near_cache completes.
using NearSyncHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;

// Keeps `value` (decoded from `entry`) in the near cache if the entry's read may be kept
// (src/cache/near_tier.cpp).
void near_keep(const CacheEntry& entry, std::shared_ptr<NearValue> value);

// The entry as a T: from the near cache when it holds a T, else decoded from its JSON text and
// offered to the near cache. errc::decode_error naming `key` when it is not a T.
template <class T>
T cache_value_as(const CacheEntry& entry, std::string_view key);

// How a lookup completes (src/cache/lookup.cpp): the public templates wrap the caller's
// handler in one of these, converting the entry to the caller's type.
using EntryHandler = boost::asio::any_completion_handler<void(std::exception_ptr, CacheEntry)>;

// What a computation produced.
struct Computed {
  CacheEntry::Kind kind = CacheEntry::Kind::value;  // value or not_found
  std::string json;
  bool store = true;  // false: return it, but do not cache it
};

// What a get_or_set lookup runs on a miss: `compute` (not started before), on `executor`, the
// caller's (where its cancellation comes from). A get()'s has no `compute`, only `executor`.
struct Computation {
  boost::asio::awaitable<Computed> compute;
  boost::asio::any_io_executor executor;
};

// Marks get_or_set's result type as "the computation's".
struct DeduceResult {};

template <class F>
struct AwaitableValue;
template <class T, class Executor>
struct AwaitableValue<boost::asio::awaitable<T, Executor>> {
  using type = T;
};
// R of a callable returning asio::awaitable<R>.
template <class F, class... Args>
using awaitable_result_t =
    typename AwaitableValue<std::remove_cvref_t<std::invoke_result_t<F, Args...>>>::type;

// JSON text of `value` (invalid UTF-8 is Error(errc::invalid_argument)).
std::string cache_dump(const nlohmann::json& value);
// Parses entry.json; errc::decode_error naming the key when it is not JSON.
nlohmann::json cache_parse(const CacheEntry& entry, std::string_view key);
[[noreturn]] void cache_decode_error(std::string_view key, std::string_view what);

// The entry as a T from its JSON text; errc::decode_error naming `key` when it is not one.
template <class T>
T cache_decode_json(const CacheEntry& entry, std::string_view key) {
  if constexpr (IsOptional<T>::value) {
    if (entry.kind == CacheEntry::Kind::not_found) return T(std::nullopt);
    return T(cache_decode_json<typename T::value_type>(entry, key));
  } else {
    if (entry.kind != CacheEntry::Kind::value) {
      cache_decode_error(key, "holds a cached \"not found\"; read it as a std::optional");
    }
    nlohmann::json json = cache_parse(entry, key);
    if constexpr (std::same_as<T, nlohmann::json>) {
      return json;
    } else {
      try {
        return json.template get<T>();
      } catch (const nlohmann::json::exception& e) {
        cache_decode_error(key, e.what());
      }
    }
  }
}

template <class T>
T cache_value_as(const CacheEntry& entry, std::string_view key) {
  if (entry.near && *entry.near->type == typeid(T)) {
    return static_cast<const NearValueOf<T>&>(*entry.near).value;
  }
  T value = cache_decode_json<T>(entry, key);
  if (entry.near_read) {
    auto kept = std::make_shared<NearValueOf<T>>();
    kept->type = &typeid(T);
    kept->kind = entry.kind;
    kept->value = value;
    near_keep(entry, std::move(kept));
  }
  return value;
}

// A lookup's result as std::optional<T>: std::nullopt for a miss.
template <class T>
std::optional<T> cache_decode(const CacheEntry& entry, std::string_view key) {
  if (entry.kind == CacheEntry::Kind::miss) return std::nullopt;
  return cache_value_as<T>(entry, key);
}

// std::nullopt (or an empty optional) is "not found"; anything else is its JSON.
template <class T>
void cache_encode(const T& value, Computed& out) {
  if constexpr (std::same_as<T, std::nullopt_t>) {
    out.kind = CacheEntry::Kind::not_found;
  } else if constexpr (IsOptional<T>::value) {
    if (value) {
      cache_encode(*value, out);
    } else {
      out.kind = CacheEntry::Kind::not_found;
    }
  } else if constexpr (std::same_as<T, nlohmann::json>) {
    out.kind = CacheEntry::Kind::value;
    out.json = cache_dump(value);
  } else {
    out.kind = CacheEntry::Kind::value;
    out.json = cache_dump(nlohmann::json(value));
  }
}

// The compute step of get_or_set and cached(): runs `compute` and turns its result into what
// is stored; `keep(result)` false means the result is returned but not cached.
template <class T, class Compute, class Keep>
boost::asio::awaitable<Computed> cache_compute(Compute compute, Keep keep) {
  T value = co_await std::invoke(compute);
  Computed out;
  out.store = static_cast<bool>(std::invoke(keep, std::as_const(value)));
  cache_encode(value, out);
  co_return out;
}

// The `keep` that stores every result.
struct CacheAlways {
  template <class T>
  bool operator()(const T&) const noexcept {
    return true;
  }
};

// An awaitable as an operation for `token`: returned as is for use_awaitable (no extra
// coroutine), otherwise co_spawn-ed on `executor`.
template <class T, class Token>
auto cache_launch(const boost::asio::any_io_executor& executor, boost::asio::awaitable<T> op,
                  Token&& token) {
  if constexpr (std::same_as<std::decay_t<Token>, boost::asio::use_awaitable_t<>>) {
    return op;
  } else {
    return boost::asio::co_spawn(executor, std::move(op), std::forward<Token>(token));
  }
}

}  // namespace asyncredis::detail
