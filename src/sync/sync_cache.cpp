#include "asyncredis/cache/sync_cache.hpp"

#include <string>
#include <utility>

#include "asyncredis/error.hpp"
#include "sync/compute_pool.hpp"

namespace asyncredis {

namespace {
std::shared_ptr<detail::ComputePool> make_pool(std::size_t threads) {
  if (threads == 0) {
    throw Error(errc::invalid_argument, "SyncCache compute_threads: 0 (at least 1 is needed)");
  }
  return std::make_shared<detail::ComputePool>(threads);
}
}  // namespace

SyncCache::SyncCache(SyncClient& client, CacheOptions options, std::size_t compute_threads)
    : SyncCache(CacheService(client.async_client(), std::move(options)),
                make_pool(compute_threads)) {}

SyncCache::SyncCache(CacheService service, std::shared_ptr<detail::ComputePool> pool)
    : service_(std::move(service)), pool_(std::move(pool)), pool_executor_(pool_->executor()) {}

SyncCache SyncCache::in_namespace(std::string ns) const {
  return SyncCache(service_.in_namespace(std::move(ns)), pool_);
}

}  // namespace asyncredis
