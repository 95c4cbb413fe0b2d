// ClientTracking: Redis's server-assisted client-side caching (CLIENT TRACKING) over RESP2.
//
//   asyncredis::ClientTracking tracking(client, {}, [&](const asyncredis::TrackingEvent& e) {
//     switch (e.kind) { ... }   // drop keys, drop everything, note "on"
//   });
//   if (tracking.active()) { /* what this client reads is watched by the server */ }
//
// Keeps a subscriber connection on `__redis__:invalidate` and has every pooled connection of
// the client send `CLIENT TRACKING on REDIRECT <that connection's id>` before it carries a
// request; reports invalidations, and whenever the server may have stopped watching.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

namespace asyncredis {

class RedisClient;
namespace detail {
class ClusterTracking;
class TrackingCore;
}  // namespace detail

/// How the server tracks what the client reads (CLIENT TRACKING's options).
struct TrackingOptions {
  /// false (default): the server remembers each key a connection read and invalidates those
  /// keys only. true (BCAST): the server invalidates every key that starts with one of
  /// `prefixes` (every key when there is none), read or not: no memory on the server.
  bool broadcast = false;
  /// BCAST prefixes, e.g. {"user:"}; only with broadcast; they must not overlap.
  std::vector<std::string> prefixes;
  /// NOLOOP: the client's own writes do not invalidate the keys for it.
  bool noloop = false;
};

/// What ClientTracking tells its callback.
struct TrackingEvent {
  /// What happened.
  enum class Kind : std::uint8_t {
    invalidated,  ///< `keys` may have changed (written, deleted, expired, evicted)
    flushed,      ///< every key may have changed (FLUSHALL, FLUSHDB); bumps the epoch
    /// The server may have stopped watching (the invalidation connection or a tracked data
    /// connection was lost, or CLIENT TRACKING was refused, `reason` says which): everything
    /// kept locally must go, and nothing may be kept until `on`. Bumps the epoch.
    lost,
    on,  ///< tracking is on again on every live connection: reads may be kept from now on
  };
  Kind kind = Kind::invalidated;  ///< what happened
  std::vector<std::string> keys;  ///< the keys invalidated; `invalidated` only
  std::uint64_t epoch = 0;        ///< ClientTracking::epoch() once this event happened
  std::string reason;             ///< why tracking was lost; `lost` only
};

/// Server-assisted client-side caching for one RedisClient. While it exists, every pooled
/// connection of the client is tracked (CLIENT TRACKING on REDIRECT to the tracking's own
/// subscriber connection, as part of its handshake and again whenever that subscriber
/// reconnects with a new id), and the callback hears of invalidations and of every moment the
/// server may have stopped watching. Leases (RedisClient::lease()) are not tracked.
///
/// The epoch is how a reader knows whether a reply may be kept: read epoch() and check
/// active() before sending a read; keep its reply only if epoch() is still the same after it
/// came. Every `lost` and `flushed` bumps the epoch first, then calls the callback.
///
/// On a cluster client each node the client sends requests to (the masters, and the replicas
/// that read_from allows) is tracked this way, with its own subscriber connection; the events
/// of all nodes come as one stream with one epoch. `lost` names the node, and also comes when
/// the set of nodes changes (a failover, a node added): a node that joined is read from before
/// it is tracked for at most a quarter of a second, and that `lost` drops what was kept then.
/// `on` comes once every node is tracked.
///
/// At most one ClientTracking per client at a time. The client must outlive it.
class ClientTracking {
 public:
  /// Called from any thread (the client's executor or a connection's strand), one event at
  /// a time, in order; it must not block. It may destroy the ClientTracking.
  using Callback = std::function<void(const TrackingEvent&)>;

  /// Starts tracking: opens the subscriber connection, subscribes to `__redis__:invalidate`
  /// and tracks every pooled connection (live ones at once, the others as they connect).
  /// Returns at once; the callback hears `on` when that is done. Throws
  /// Error(errc::invalid_argument) for an empty callback, prefixes without broadcast, a
  /// client that already has a ClientTracking.
  ClientTracking(RedisClient& client, TrackingOptions options, Callback callback);
  /// Stops tracking: no callback runs once it has returned (unless called from the
  /// callback, which then ends its current call normally), the live connections are sent
  /// CLIENT TRACKING off, the subscriber connection closes.
  ~ClientTracking();
  ClientTracking(const ClientTracking&) = delete;             ///< not copyable
  ClientTracking& operator=(const ClientTracking&) = delete;  ///< not assignable

  /// Whether tracking is on everywhere right now: the subscriber connection is up and
  /// subscribed, and every live pooled connection is tracked with its id. Any thread.
  bool active() const noexcept;
  /// The current epoch (see the class comment); any thread.
  std::uint64_t epoch() const noexcept;
  /// Completes once every invalidation the server sent before this call has been handed to
  /// the callback (a round trip on the invalidation connection): after another process's
  /// write was acknowledged, then a sync(), no read kept from before that write survives.
  /// Signature void(std::exception_ptr); the subscriber's errors while that connection is
  /// down, errc::shutting_down once the tracking is gone.
  template <class Token = boost::asio::deferred_t>
  auto sync(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, ClientTracking* self) {
          self->start_sync(SyncHandler(std::move(handler)));
        },
        token, this);
  }
  /// The CLIENT ID the connections redirect to now, or std::nullopt while the subscriber
  /// connection is not ready, and on a cluster client (one id per node). Any thread.
  std::optional<std::int64_t> redirect_id() const;

 private:
  using SyncHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
  void start_sync(SyncHandler handler);

  std::shared_ptr<detail::TrackingCore> core_;        // one node's
  std::shared_ptr<detail::ClusterTracking> cluster_;  // a cluster client's
};

}  // namespace asyncredis
