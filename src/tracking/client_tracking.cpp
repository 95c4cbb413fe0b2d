// ClientTracking's members: thin forwards to its core.
#include "asyncredis/client.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/tracking.hpp"
#include "tracking/tracking_core.hpp"

namespace asyncredis {

ClientTracking::ClientTracking(RedisClient& client, TrackingOptions options, Callback callback) {
  if (!callback) throw Error(errc::invalid_argument, "ClientTracking: an empty callback");
  if (!options.prefixes.empty() && !options.broadcast) {
    throw Error(errc::invalid_argument, "TrackingOptions.prefixes: prefixes need broadcast");
  }
  if (!client.core_) {
    throw Error(errc::invalid_argument,
                "ClientTracking: a cluster client's connections are spread over its nodes; "
                "tracking follows one node's pool, so it needs a single-node client");
  }
  core_ = detail::TrackingCore::start(*client.core_, std::move(options), std::move(callback));
}

ClientTracking::~ClientTracking() {
  core_->stop();
}

bool ClientTracking::active() const noexcept {
  return core_->active();
}

std::uint64_t ClientTracking::epoch() const noexcept {
  return core_->epoch();
}

void ClientTracking::start_sync(SyncHandler handler) {
  core_->sync(std::move(handler));
}

std::optional<std::int64_t> ClientTracking::redirect_id() const {
  return core_->redirect_id();
}

}  // namespace asyncredis
