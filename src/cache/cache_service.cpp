// CacheService: construction, statistics, and the single-key operations (get, mget, set, del,
// exists, expire) with the unreachable-Redis policy.
#include "asyncredis/cache/cache_service.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/client.hpp"
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

// Reads what GET returned into `entry`, counting the outcome.
void take_stored(CacheCore& core, std::optional<std::string>&& stored, std::string_view key,
                 double early_refresh, CacheEntry& entry) {
  if (!stored) {
    core.counters.misses.fetch_add(1, std::memory_order_relaxed);
    entry.kind = CacheEntry::Kind::miss;
    return;
  }
  detail::RefreshHeader header;
  try {
    detail::parse_stored(std::move(*stored), key, entry, header);
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

}  // namespace

CacheService::CacheService(RedisClient& client, CacheOptions options)
    : CacheService(static_cast<const Commands&>(client), client.get_executor(),
                   std::move(options)) {}

CacheService::CacheService(Commands commands, asio::any_io_executor executor, CacheOptions options)
    : CacheService(
          std::make_shared<CacheCore>(std::move(commands), std::move(executor), std::move(options)),
          std::string()) {
  namespace_ = core_->options.key_namespace;
}

CacheService::CacheService(std::shared_ptr<detail::CacheCore> core, std::string ns)
    : core_(std::move(core)),
      namespace_(std::move(ns)),
      on_commands_executor_(core_->commands.get_executor() == core_->executor) {}

CacheService CacheService::in_namespace(std::string ns) const {
  return CacheService(core_, std::move(ns));
}

bool CacheService::running_in_executor() const noexcept {
  const auto* io = core_->executor.target<asio::io_context::executor_type>();
  return io != nullptr && io->running_in_this_thread();
}

const CacheOptions& CacheService::options() const noexcept {
  return core_->options;
}

CacheStats CacheService::stats() const noexcept {
  const auto& c = core_->counters;
  CacheStats out;
  out.hits = c.hits.load();
  out.misses = c.misses.load(std::memory_order_relaxed);
  out.negative_hits = c.negative_hits.load(std::memory_order_relaxed);
  out.sets = c.sets.load(std::memory_order_relaxed);
  out.errors = c.errors.load(std::memory_order_relaxed);
  out.computations = c.computations.load(std::memory_order_relaxed);
  out.waits = c.waits.load(std::memory_order_relaxed);
  out.early_refreshes = c.early_refreshes.load(std::memory_order_relaxed);
  return out;
}

const asio::any_io_executor& CacheService::get_executor() const noexcept {
  return core_->executor;
}

std::uint64_t CacheService::flights_completed() const noexcept {
  return core_->flights_completed.load(std::memory_order_acquire);
}

void CacheService::count_error() const noexcept {
  core_->counters.errors.fetch_add(1, std::memory_order_relaxed);
}

void CacheService::count_hit() const noexcept {
  core_->counters.hits.add();
}

const Commands& CacheService::commands() const noexcept {
  return core_->commands;
}

const std::string& CacheService::key_prefix() const noexcept {
  return core_->options.key_prefix;
}

std::string CacheService::encode_get(std::string_view key) const {
  if (!namespace_.empty()) return {};
  const std::string& prefix = core_->options.key_prefix;
  std::string out;
  if (prefix.empty()) {
    encode_command(out, "GET", key);
  } else {
    encode_command(out, "GET", prefix + std::string(key));
  }
  return out;
}

void CacheService::settle(std::exception_ptr&& error, std::optional<std::string>&& stored,
                          std::string_view key, double early_refresh, CacheEntry& entry) const {
  // Only the hit path of a service without a namespace comes here: the key is prefix + key.
  CacheCore& core = *core_;
  if (error) {
    if (!core.absorb(error)) std::rethrow_exception(error);
    core.counters.misses.fetch_add(1, std::memory_order_relaxed);
    entry.unavailable = true;
  } else {
    take_stored(core, std::move(stored), key, early_refresh, entry);
  }
  if (entry.kind == CacheEntry::Kind::miss || entry.refresh_due) {
    entry.redis_key.reserve(core.options.key_prefix.size() + key.size());
    entry.redis_key.append(core.options.key_prefix).append(key);
  }
}

asio::awaitable<std::string> CacheService::redis_key(CacheService self, std::string key) {
  if (self.namespace_.empty()) co_return self.core_->options.key_prefix + key;
  std::string stem = co_await key_stem(self);
  co_return stem + key;
}

asio::awaitable<CacheEntry> CacheService::lookup(CacheService self, std::string key,
                                                 double early_refresh) {
  CacheCore& core = *self.core_;
  CacheEntry entry;
  std::optional<std::string> stored;
  std::exception_ptr failure;
  try {
    // The common case builds the key without another coroutine.
    if (self.namespace_.empty()) {
      entry.redis_key = core.options.key_prefix + key;
    } else {
      entry.redis_key = co_await redis_key(self, key);
    }
    stored = co_await core.commands.get(entry.redis_key, use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (!core.absorb(failure)) std::rethrow_exception(failure);
    core.counters.misses.fetch_add(1, std::memory_order_relaxed);
    entry.unavailable = true;
    co_return entry;
  }
  take_stored(core, std::move(stored), key, early_refresh, entry);
  co_return entry;
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
    take_stored(core, std::move(stored[i]), keys[i], 0.0, entries[i]);
  }
  co_return entries;
}

asio::awaitable<void> CacheService::run_set(CacheService self, std::string key,
                                            detail::Computed value, std::chrono::milliseconds ttl) {
  CacheCore& core = *self.core_;
  SetOptions set_options;
  set_options.ttl = value.kind == CacheEntry::Kind::not_found
                        ? core.effective_ttl(ttl, core.options.negative_ttl)
                        : core.effective_ttl(ttl, core.options.default_ttl);
  const std::string stored = detail::stored_form(value);
  std::exception_ptr failure;
  try {
    const std::string redis = co_await redis_key(self, key);
    // A computation of this key that is running now must not overwrite this value.
    core.invalidated(redis);
    co_await core.commands.set(redis, stored, set_options, use_awaitable);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    if (!core.absorb(failure)) std::rethrow_exception(failure);
    co_return;  // the policy skips the write
  }
  core.counters.sets.fetch_add(1, std::memory_order_relaxed);
}

asio::awaitable<bool> CacheService::run_del(CacheService self, std::string key) {
  CacheCore& core = *self.core_;
  try {
    const std::string redis = co_await redis_key(self, key);
    // Nor bring back, when it ends, the value deleted here.
    core.invalidated(redis);
    co_return co_await core.commands.unlink(redis, use_awaitable) > 0;
  } catch (...) {
    // An invalidation that did not happen must never pass for one: no policy applies.
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

asio::awaitable<bool> CacheService::run_exists(CacheService self, std::string key) {
  CacheCore& core = *self.core_;
  std::exception_ptr failure;
  try {
    const std::string redis = co_await redis_key(self, key);
    co_return co_await core.commands.exists(redis, use_awaitable) > 0;
  } catch (...) {
    failure = std::current_exception();
  }
  if (!core.absorb(failure)) std::rethrow_exception(failure);
  co_return false;
}

asio::awaitable<bool> CacheService::run_expire(CacheService self, std::string key,
                                               std::chrono::milliseconds ttl) {
  CacheCore& core = *self.core_;
  if (ttl.count() <= 0) {
    throw Error(errc::invalid_argument, "cache expire: the TTL must be positive, got " +
                                            std::to_string(ttl.count()) + " ms");
  }
  try {
    const std::string redis = co_await redis_key(self, key);
    co_return co_await core.commands.pexpire(redis, ttl, use_awaitable);
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

}  // namespace asyncredis
