// CacheService: construction, statistics, and the single-key writes (set, del, exists,
// expire) with the unreachable-Redis policy. The reads are in lookup.cpp.
#include "asyncredis/cache/cache_service.hpp"

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/error.hpp"
#include "cache/cache_core.hpp"
#include "cache/entry_codec.hpp"
#include "cache/near_tier.hpp"

namespace asyncredis {

namespace asio = boost::asio;
using asio::use_awaitable;
using detail::CacheCore;
using detail::CacheEntry;

CacheService::CacheService(RedisClient& client, CacheOptions options)
    : CacheService(static_cast<const Commands&>(client), client.get_executor(),
                   detail::with_default_ttl(std::move(options), client.settings()), &client) {}

CacheService::CacheService(Commands commands, asio::any_io_executor executor, CacheOptions options)
    : CacheService(std::move(commands), std::move(executor), std::move(options), nullptr) {}

CacheService::CacheService(Commands commands, asio::any_io_executor executor, CacheOptions options,
                           RedisClient* client)
    : CacheService(
          std::make_shared<CacheCore>(std::move(commands), std::move(executor), std::move(options)),
          std::string()) {
  namespace_ = core_->options.key_namespace;
  if (!core_->options.near_cache.enabled) return;
  if (client == nullptr) {
    throw Error(errc::invalid_argument,
                "CacheOptions::near_cache: needs a service made from a RedisClient (it tracks "
                "the client's connections), not from a command view");
  }
  core_->near = detail::NearTier::start(*client, core_->options);
}

CacheService::CacheService(std::shared_ptr<detail::CacheCore> core, std::string ns)
    : core_(std::move(core)), namespace_(std::move(ns)) {}

CacheService CacheService::in_namespace(std::string ns) const {
  return CacheService(core_, std::move(ns));
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
  if (core_->near) core_->near->add_to(out);
  return out;
}

void CacheService::start_near_sync(detail::NearSyncHandler handler) const {
  if (core_->near) {
    core_->near->sync(std::move(handler));
    return;
  }
  // Completes on the handler's own executor (post's rule), the service's by default.
  asio::post(core_->executor, asio::append(std::move(handler), std::exception_ptr()));
}

const asio::any_io_executor& CacheService::get_executor() const noexcept {
  return core_->executor;
}

void CacheService::count_error(const std::shared_ptr<detail::CacheCore>& core) noexcept {
  core->counters.errors.fetch_add(1, std::memory_order_relaxed);
}

asio::awaitable<std::string> CacheService::redis_key(CacheService self, std::string key) {
  if (self.namespace_.empty()) co_return self.core_->options.key_prefix + key;
  std::string common_prefix = co_await keys_common_prefix(self);
  co_return common_prefix + key;
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
    // The near cache's copy may be kept longer than the new lifetime: it goes now.
    if (core.near) core.near->invalidate(redis);
    co_return co_await core.commands.pexpire(redis, ttl, use_awaitable);
  } catch (...) {
    core.counters.errors.fetch_add(1, std::memory_order_relaxed);
    throw;
  }
}

}  // namespace asyncredis
