#include "asyncredis/sync_client.hpp"

#include <utility>

#include "sync/sync_runtime.hpp"

namespace asyncredis {

SyncLease::SyncLease(Lease lease, detail::SyncRuntime& runtime)
    : BlockingCommands<SyncCommands>(static_cast<const Commands&>(lease)),
      lease_(std::move(lease)),
      sink_owner_(runtime.blocking_sink(*sink_)) {  // sink_: the lease's own, copied above
  sink_ = sink_owner_.get();
}

SyncClient::SyncClient(RedisSettings settings, std::optional<int> db)
    : SyncClient(std::make_unique<detail::SyncRuntime>(std::move(settings), db)) {}

// The command surface is built from the runtime's client before the runtime is moved in (base
// classes are initialised before members); it points into the runtime, which this owns.
SyncClient::SyncClient(std::unique_ptr<detail::SyncRuntime> runtime)
    : SyncCommands(runtime->client()),
      runtime_(std::move(runtime)),
      sink_owner_(runtime_->blocking_sink(*sink_)) {
  sink_ = sink_owner_.get();
}

SyncClient::~SyncClient() = default;

SyncLease SyncClient::lease() const {
  return SyncLease(runtime_->client().lease(use_sync), *runtime_);
}

SyncLease SyncClient::lease_for(std::string_view key) const {
  return SyncLease(runtime_->client().lease_for(key, use_sync), *runtime_);
}

RedisClient& SyncClient::async_client() const noexcept {
  return runtime_->client();
}

PoolStats SyncClient::stats() const noexcept {
  return runtime_->client().stats();
}

}  // namespace asyncredis
