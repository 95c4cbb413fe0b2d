#include "asyncredis/sync_client.hpp"

#include <utility>

#include "sync/sync_runtime.hpp"

namespace asyncredis {

namespace detail {
SyncHost::SyncHost(RedisSettings settings, std::optional<int> db)
    : runtime_(std::make_unique<SyncRuntime>(std::move(settings), db)) {}
SyncHost::~SyncHost() = default;

std::shared_ptr<RequestSink> SyncHost::blocking_sink(RequestSink& inner) const {
  return runtime_->blocking_sink(inner);
}
}  // namespace detail

SyncLease::SyncLease(Lease lease, const SyncClient& client)
    : BlockingCommands<SyncCommands>(static_cast<const Commands&>(lease)),
      lease_(std::move(lease)),
      sink_owner_(client.blocking_sink(*sink_)) {  // sink_: the lease's own, copied above
  sink_ = sink_owner_.get();
}

SyncClient::SyncClient(RedisSettings settings, std::optional<int> db)
    : detail::SyncHost(std::move(settings), db), SyncCommands(runtime_->client()) {
  sink_owner_ = blocking_sink(*sink_);
  sink_ = sink_owner_.get();
}

SyncClient::~SyncClient() = default;

SyncLease SyncClient::lease() const {
  return SyncLease(runtime_->client().lease(use_sync), *this);
}

RedisClient& SyncClient::async_client() const noexcept {
  return runtime_->client();
}

PoolStats SyncClient::stats() const noexcept {
  return runtime_->client().stats();
}

}  // namespace asyncredis
