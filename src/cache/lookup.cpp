// The one lookup behind CacheService::get, get_or_set and cached() (and mget's reads): the key
// in Redis (a namespace's generation first, when there is one), a GET through the public
// commands, what it found read and counted, and on a miss the single-flight fill.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/entry_codec.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using detail::CacheCore;
using detail::CacheEntry;

namespace {

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads what GET returned into `entry` (which holds its key in Redis), counting the outcome.
void read_stored(CacheCore& core, std::optional<std::string>&& stored, double early_refresh,
                 CacheEntry& entry) {
  if (!stored) {
    core.counters.misses.fetch_add(1, std::memory_order_relaxed);
    entry.kind = CacheEntry::Kind::miss;
    return;
  }
  detail::RefreshHeader header;
  try {
    detail::parse_stored(std::move(*stored), entry.redis_key, entry, header);
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
  if (entry.kind == CacheEntry::Kind::not_found) {
    core.counters.negative_hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    core.counters.hits.add();
  }
  if (early_refresh > 0) {
    entry.refresh_due =
        detail::refresh_due(header, unix_ms_now(), early_refresh, detail::cache_random());
  }
}

// A read that failed: a miss, counted, when the unreachable policy absorbs `error`; else
// thrown.
void absorb_or_throw(CacheCore& core, const std::exception_ptr& error, CacheEntry& entry) {
  if (!core.absorb(error)) std::rethrow_exception(error);
  core.counters.misses.fetch_add(1, std::memory_order_relaxed);
  entry.unavailable = true;
}

}  // namespace

struct CacheService::Lookup {
  CacheService service;
  std::string key;  // as the caller named it
  GetOrSetOptions options;
  detail::Computation computation;  // none for get(): a miss completes as one
  // Flights completed before the GET: one that completes after it is read again (see fill).
  std::uint64_t flights_seen;
  detail::EntryHandler handler;

  struct Answer;
  struct WithStem;

  // The GET of `redis_key`; the caller's cancellation slot reaches it.
  static void send(Lookup&& lookup, std::string redis_key);

  static void answered(Lookup&& lookup, CacheEntry&& entry, const std::exception_ptr& error,
                       std::optional<std::string>&& stored) {
    CacheCore& core = *lookup.service.core_;
    try {
      if (error) {
        absorb_or_throw(core, error, entry);
      } else {
        read_stored(core, std::move(stored), lookup.options.early_refresh, entry);
      }
    } catch (...) {
      complete(std::move(lookup), std::current_exception(), CacheEntry{});
      return;
    }
    const bool due = entry.kind == CacheEntry::Kind::miss || entry.refresh_due;
    if (due && lookup.computation.compute.valid()) {
      fill(std::move(lookup), std::move(entry));
      return;
    }
    complete(std::move(lookup), nullptr, std::move(entry));
  }

  // Completes the caller on its own executor (the service's for a handler without one):
  // directly when this thread runs it, as it does in the usual GET completion.
  static void complete(Lookup&& lookup, std::exception_ptr error, CacheEntry&& entry) {
    const asio::any_io_executor& executor = lookup.service.core_->executor;
    asio::dispatch(executor,
                   asio::append(std::move(lookup.handler), std::move(error), std::move(entry)));
  }

  // Runs the fill in a coroutine that completes the caller, on the caller's executor: the
  // caller cancels from there, and the fill's cancellation handlers must not race with that.
  static void fill(Lookup&& lookup, CacheEntry&& missed) {
    auto filling =
        fill_named(lookup.service, std::move(lookup.key), std::move(missed), lookup.options,
                   std::move(lookup.computation.compute), lookup.flights_seen);
    asio::co_spawn(lookup.computation.executor, std::move(filling), std::move(lookup.handler));
  }

  // CacheService::fill, its result naming its key for a decode error.
  static asio::awaitable<CacheEntry> fill_named(CacheService service, std::string key,
                                                CacheEntry missed, GetOrSetOptions options,
                                                asio::awaitable<detail::Computed> compute,
                                                std::uint64_t flights_seen) {
    std::string name = missed.redis_key.empty() ? key : missed.redis_key;
    CacheEntry filled = co_await CacheService::fill(service, std::move(key), std::move(missed),
                                                    options, std::move(compute), flights_seen);
    if (filled.redis_key.empty()) filled.redis_key = std::move(name);
    co_return filled;
  }
};

// The GET's outcome.
struct CacheService::Lookup::Answer {
  Lookup lookup;
  CacheEntry entry;
  void operator()(std::exception_ptr error, std::optional<std::string> stored) {
    answered(std::move(lookup), std::move(entry), error, std::move(stored));
  }
};

// The namespace's step: with its stem known, the same GET as without a namespace.
struct CacheService::Lookup::WithStem {
  Lookup lookup;
  void operator()(std::exception_ptr error, std::string stem) {
    if (error) {
      answered(std::move(lookup), CacheEntry{}, error, std::nullopt);
      return;
    }
    stem += lookup.key;
    send(std::move(lookup), std::move(stem));
  }
};

void CacheService::Lookup::send(Lookup&& lookup, std::string redis_key) {
  const Commands& commands = lookup.service.core_->commands;
  auto slot = asio::get_associated_cancellation_slot(lookup.handler);
  CacheEntry entry;
  entry.redis_key = redis_key;  // a copy: `redis_key` must outlive the GET's encoding
  commands.get(redis_key,
               asio::bind_cancellation_slot(slot, Answer{std::move(lookup), std::move(entry)}));
}

void CacheService::start_lookup(std::string key, const GetOrSetOptions& options,
                                detail::Computation computation,
                                detail::EntryHandler handler) const {
  const std::uint64_t flights_seen = core_->flights_completed.load(std::memory_order_acquire);
  Lookup lookup{*this,        std::move(key),    options, std::move(computation),
                flights_seen, std::move(handler)};
  if (namespace_.empty()) {
    std::string redis_key = core_->options.key_prefix + lookup.key;
    Lookup::send(std::move(lookup), std::move(redis_key));
    return;
  }
  // The generation is read at most once per generation_refresh; the coroutine is the price
  // of namespaces.
  auto slot = asio::get_associated_cancellation_slot(lookup.handler);
  asio::co_spawn(core_->executor, key_stem(*this),
                 asio::bind_cancellation_slot(slot, Lookup::WithStem{std::move(lookup)}));
}

asio::awaitable<std::vector<CacheEntry>> CacheService::lookup_many(CacheService self,
                                                                   std::vector<std::string> keys) {
  CacheCore& core = *self.core_;
  std::vector<CacheEntry> entries(keys.size());
  if (keys.empty()) co_return entries;
  std::vector<std::optional<std::string>> stored;
  std::exception_ptr failure;
  try {
    // No co_await inside ?: here: GCC 12 destroys the temporaries of both branches.
    const std::string stem = co_await key_stem(self);
    std::vector<std::string> redis_keys;
    redis_keys.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      entries[i].redis_key = stem + keys[i];
      redis_keys.push_back(entries[i].redis_key);
    }
    stored = co_await core.commands.mget(redis_keys, use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (!core.absorb(failure)) std::rethrow_exception(failure);
    core.counters.misses.fetch_add(keys.size(), std::memory_order_relaxed);
    for (CacheEntry& entry : entries) entry.unavailable = true;
    co_return entries;
  }
  if (stored.size() != keys.size()) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw Error(errc::protocol_error, "cache mget: " + std::to_string(keys.size()) + " keys, " +
                                          std::to_string(stored.size()) + " replies");
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    read_stored(core, std::move(stored[i]), 0.0, entries[i]);
  }
  co_return entries;
}

}  // namespace asyncredis
