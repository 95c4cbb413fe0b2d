#include "asyncredis/sync_client.hpp"

#include <utility>

#include "sync/sync_runtime.hpp"

namespace asyncredis {

namespace detail {
SyncHost::SyncHost(RedisSettings settings, std::optional<int> db)
    : runtime_(std::make_unique<SyncRuntime>(std::move(settings), db)) {}
SyncHost::~SyncHost() = default;
}  // namespace detail

SyncLease::SyncLease(Lease lease)
    : BlockingCommands<SyncCommands>(static_cast<const Commands&>(lease)),
      lease_(std::move(lease)) {}

SyncClient::SyncClient(RedisSettings settings, std::optional<int> db)
    : detail::SyncHost(std::move(settings), db), SyncCommands(runtime_->client()) {}

SyncClient::~SyncClient() = default;

SyncLease SyncClient::lease() const {
  return SyncLease(runtime_->client().lease(use_sync));
}

RedisClient& SyncClient::async_client() const noexcept {
  return runtime_->client();
}

PoolStats SyncClient::stats() const noexcept {
  return runtime_->client().stats();
}

}  // namespace asyncredis
