// The one lookup behind CacheService::get, get_or_set and cached() (and mget's reads): the key
// in Redis (a namespace's generation first, when there is one), a GET through the public
// commands, what it found read and counted, and on a miss the single-flight fill.
#include <memory>

#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/cache/cache_service.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/entry_codec.hpp"
#include "cache/near_tier.hpp"

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
  if (entry.near_read && header.present) {
    entry.near_read->refresh_delta_ms = header.delta_ms;
    entry.near_read->refresh_expiry_ms = header.expiry_ms;
  }
}

// A near-cache hit as the entry a GET would have given, counted; false when an early refresh
// is drawn for it (the lookup then reads from Redis and refreshes).
bool take_near(CacheCore& core, std::shared_ptr<const detail::NearValue> held, double early_refresh,
               CacheEntry& entry) {
  if (early_refresh > 0 && held->refresh_expiry_ms != 0) {
    const detail::RefreshHeader header{true, held->refresh_delta_ms, held->refresh_expiry_ms};
    if (detail::refresh_due(header, unix_ms_now(), early_refresh, detail::cache_random())) {
      return false;
    }
  }
  entry.kind = held->kind;
  entry.near = std::move(held);
  if (entry.kind == CacheEntry::Kind::not_found) {
    core.counters.negative_hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    core.counters.hits.add();
  }
  return true;
}

// A read that failed: a miss, counted, when the unreachable policy absorbs `error`; else
// thrown.
void absorb_or_throw(CacheCore& core, const std::exception_ptr& error, CacheEntry& entry) {
  if (!core.absorb(error)) std::rethrow_exception(error);
  core.counters.misses.fetch_add(1, std::memory_order_relaxed);
  entry.unavailable = true;
}

}  // namespace

// One lookup in progress, on the heap: the steps hand one pointer along, and the key in Redis
// stays where it is while the GET encodes it.
struct CacheService::Lookup {
  CacheService service;
  std::string key;                   // as the caller named it
  const std::type_info* value_type;  // what the caller decodes the entry as
  GetOrSetOptions options;
  detail::Computation computation;  // none for get(): a miss completes as one
  // Flights completed before the GET: one that completes after it is read again (see fill).
  std::uint64_t flights_seen;
  detail::EntryHandler handler;
  CacheEntry entry;            // what was found, under its key in Redis
  bool refresh_drawn = false;  // the near cache's value was drawn for an early refresh

  using Owned = std::unique_ptr<Lookup>;
  struct Answer;
  struct AnswerWithLifetime;
  struct WithPrefix;

  // The near cache's value for entry.redis_key, or the GET of it; the caller's cancellation
  // slot reaches the GET.
  static void send(Owned lookup);

  static void answered(Owned lookup, const std::exception_ptr& error,
                       std::optional<std::string>&& stored) {
    CacheCore& core = *lookup->service.core_;
    try {
      if (error) {
        absorb_or_throw(core, error, lookup->entry);
      } else {
        read_stored(core, std::move(stored), lookup->options.early_refresh, lookup->entry);
      }
    } catch (...) {
      lookup->entry = CacheEntry{};
      complete(std::move(lookup), std::current_exception());
      return;
    }
    CacheEntry& entry = lookup->entry;
    if (lookup->refresh_drawn && entry.kind == CacheEntry::Kind::value) entry.refresh_due = true;
    const bool due = entry.kind == CacheEntry::Kind::miss || entry.refresh_due;
    if (due && lookup->computation.compute.valid()) {
      fill(std::move(lookup));
      return;
    }
    complete(std::move(lookup), nullptr);
  }

  // Completes the caller with the entry on its own executor (the service's for a handler
  // without one): directly when this thread runs it, as it does in the usual GET completion.
  // `in_initiation`: still inside the caller's call (a near-cache hit), where completing
  // inline would break Asio's rule and recurse without bound in a caller that starts its next
  // call from the handler: posted instead.
  static void complete(Owned lookup, std::exception_ptr error, bool in_initiation = false) {
    const asio::any_io_executor executor = lookup->service.core_->executor;
    auto completion =
        asio::append(std::move(lookup->handler), std::move(error), std::move(lookup->entry));
    lookup.reset();
    if (in_initiation) {
      asio::post(executor, std::move(completion));
    } else {
      asio::dispatch(executor, std::move(completion));
    }
  }

  // Runs `step` with the lookup on the caller's executor. For the steps that install a handler
  // in the caller's cancellation slot (the GET, the fill's co_spawn): the caller emits there,
  // so installing from the thread that completed the previous step would race with it.
  template <class Step>
  static void on_caller(Owned lookup, Step step) {
    const asio::any_io_executor executor = lookup->computation.executor;
    asio::dispatch(executor,
                   [lookup = std::move(lookup), step]() mutable { step(std::move(lookup)); });
  }

  // Runs the fill in a coroutine that completes the caller, on the caller's executor: the
  // caller cancels from there, and the fill's cancellation handlers must not race with that.
  static void fill(Owned lookup) {
    on_caller(std::move(lookup), [](Owned lookup) {
      Lookup& l = *lookup;
      auto filling = fill_named(l.service, std::move(l.key), std::move(l.entry), l.options,
                                std::move(l.computation.compute), l.flights_seen);
      asio::co_spawn(l.computation.executor, std::move(filling), std::move(l.handler));
    });
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
  Owned lookup;
  void operator()(std::exception_ptr error, std::optional<std::string> stored) {
    answered(std::move(lookup), error, std::move(stored));
  }
};

// GET and PTTL's outcome, for a read the near cache may keep: the value, and how long it may
// be kept.
struct CacheService::Lookup::AnswerWithLifetime {
  Owned lookup;
  void operator()(std::exception_ptr error, std::vector<Reply> replies) {
    if (!error && replies.size() != 2) {
      error = std::make_exception_ptr(Error(
          errc::protocol_error, "cache: GET+PTTL: " + std::to_string(replies.size()) + " replies"));
    }
    if (error) {
      answered(std::move(lookup), error, std::nullopt);
      return;
    }
    if (replies[0].is_error()) {
      answered(std::move(lookup), detail::server_error_of(replies[0]), std::nullopt);
      return;
    }
    detail::NearRead& read = *lookup->entry.near_read;
    if (replies[1].is_integer()) read.tier->set_lifetime(read, replies[1].integer());
    std::optional<std::string> stored;
    if (!replies[0].is_nil()) stored = std::move(replies[0]).str();
    answered(std::move(lookup), nullptr, std::move(stored));
  }
};

// The namespace's step: with the common prefix of its keys known, the same GET as without a
// namespace.
struct CacheService::Lookup::WithPrefix {
  Owned lookup;
  void operator()(std::exception_ptr error, std::string common_prefix) {
    if (error) {
      answered(std::move(lookup), error, std::nullopt);
      return;
    }
    lookup->entry.redis_key = std::move(common_prefix);
    lookup->entry.redis_key += lookup->key;
    on_caller(std::move(lookup), &send);
  }
};

void CacheService::Lookup::send(Owned lookup) {
  CacheCore& core = *lookup->service.core_;
  auto slot = asio::get_associated_cancellation_slot(lookup->handler);
  // The key is on the heap with the lookup: moving the pointer into the handler leaves it be.
  const std::string& redis_key = lookup->entry.redis_key;
  if (core.near) {
    if (auto held = core.near->find(redis_key, *lookup->value_type)) {
      if (take_near(core, std::move(held), lookup->options.early_refresh, lookup->entry)) {
        complete(std::move(lookup), nullptr, true);
        return;
      }
      lookup->refresh_drawn = true;
    }
    // Marked pending before the GET goes: an invalidation that overtakes its reply is seen.
    lookup->entry.near_read = core.near->begin_read(redis_key);
    if (lookup->entry.near_read) {
      Pipeline reads;
      reads.add("GET", redis_key).add("PTTL", redis_key);
      core.commands.execute(
          reads, asio::bind_cancellation_slot(slot, AnswerWithLifetime{std::move(lookup)}));
      return;
    }
  }
  core.commands.get(redis_key, asio::bind_cancellation_slot(slot, Answer{std::move(lookup)}));
}

void CacheService::start_lookup(std::string key, const std::type_info& value_type,
                                const GetOrSetOptions& options, detail::Computation computation,
                                detail::EntryHandler handler) const {
  const std::uint64_t flights_seen = core_->flights_completed.load(std::memory_order_acquire);
  Lookup::Owned lookup(new Lookup{*this, std::move(key), &value_type, options,
                                  std::move(computation), flights_seen, std::move(handler),
                                  CacheEntry{}});
  if (namespace_.empty()) {
    lookup->entry.redis_key = core_->options.key_prefix + lookup->key;
    Lookup::send(std::move(lookup));
    return;
  }
  // The generation is read at most once per generation_refresh; the coroutine is the price
  // of namespaces.
  auto slot = asio::get_associated_cancellation_slot(lookup->handler);
  asio::co_spawn(core_->executor, keys_common_prefix(*this),
                 asio::bind_cancellation_slot(slot, Lookup::WithPrefix{std::move(lookup)}));
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
    const std::string common_prefix = co_await keys_common_prefix(self);
    std::vector<std::string> redis_keys;
    redis_keys.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      entries[i].redis_key = common_prefix + keys[i];
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
