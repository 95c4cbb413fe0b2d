// ClientTracking's members: thin forwards to its core.
#include "asyncredis/client.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/tracking.hpp"
#include "tracking/cluster_tracking.hpp"
#include "tracking/tracking_core.hpp"

namespace asyncredis {

ClientTracking::ClientTracking(RedisClient& client, TrackingOptions options, Callback callback) {
  if (!callback) throw Error(errc::invalid_argument, "ClientTracking: an empty callback");
  if (!options.prefixes.empty() && !options.broadcast) {
    throw Error(errc::invalid_argument, "TrackingOptions.prefixes: prefixes need broadcast");
  }
  if (client.cluster_) {
    cluster_ =
        detail::ClusterTracking::start(client.cluster_, std::move(options), std::move(callback));
  } else {
    core_ = detail::TrackingCore::start(*client.core_, std::move(options), std::move(callback));
  }
}

ClientTracking::~ClientTracking() {
  if (cluster_) {
    cluster_->stop();
  } else {
    core_->stop();
  }
}

bool ClientTracking::active() const noexcept {
  return cluster_ ? cluster_->active() : core_->active();
}

std::uint64_t ClientTracking::epoch() const noexcept {
  return cluster_ ? cluster_->epoch() : core_->epoch();
}

void ClientTracking::start_sync(SyncHandler handler) {
  if (cluster_) {
    cluster_->sync(std::move(handler));
  } else {
    core_->sync(std::move(handler));
  }
}

std::optional<std::int64_t> ClientTracking::redirect_id() const {
  if (cluster_) return std::nullopt;
  return core_->redirect_id();
}

}  // namespace asyncredis
