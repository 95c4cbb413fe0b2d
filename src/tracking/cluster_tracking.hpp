// ClusterTracking: what a ClientTracking is on a cluster client.
//
// CLIENT TRACKING ... REDIRECT names a connection of the same server, so each node the client
// sends requests to (every master, and the replicas when read_from allows) gets its own
// TrackingCore: its invalidation subscriber on that node, its pooled connections redirected
// there. This class follows the slot map (the set of nodes changes with a failover, or a node
// added) and makes of the nodes' events one stream with one epoch:
// - invalidated: passed on, with the cluster-wide epoch;
// - flushed, lost: the epoch is bumped, then passed on (lost names the node);
// - on: once every node's tracking is on;
// - the set of nodes changed: lost (what was read on a node not tracked yet may be stale).
//
// Events are queued in the order they were decided and handed to the callback by one thread
// at a time, with no lock of a node held by this class: a callback that destroys the
// ClientTracking stops every node's core from there.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/tracking.hpp"
#include "net/completer.hpp"

namespace asyncredis::detail {

class ClusterCore;
struct ClusterRoutes;
class TrackingCore;

class ClusterTracking final : public std::enable_shared_from_this<ClusterTracking> {
 public:
  using SyncHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;

  // Use start(); public for make_shared.
  ClusterTracking(std::shared_ptr<ClusterCore> cluster, TrackingOptions options,
                  ClientTracking::Callback callback);
  // Tracks every node of the map now, and those of the maps to come (before connect(), none
  // yet). Throws Error(errc::invalid_argument) when the client has a ClientTracking already.
  static std::shared_ptr<ClusterTracking> start(std::shared_ptr<ClusterCore> cluster,
                                                TrackingOptions options,
                                                ClientTracking::Callback callback);
  // As TrackingCore::stop(), for every node.
  void stop();

  bool active() const;
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  // Every node's sync(); the first error, if any.
  void sync(SyncHandler handler);

 private:
  // Starts and stops nodes' cores to match the slot map; `first`: at start(), where a failure
  // is thrown instead of tried again later.
  void follow_routes(bool first);
  void arm_follow();
  void on_node_event(const std::string& node, const TrackingEvent& event);
  // Under state_mutex_.
  bool all_active() const;
  void bump_and_lose(std::string reason);
  void announce_if_on();
  void enqueue(TrackingEvent event);
  // Hands the queued events to the callback, unless another thread is doing it already.
  void drain();

  const std::shared_ptr<ClusterCore> cluster_;
  const TrackingOptions options_;
  const ClientTracking::Callback callback_;
  Completer completer_;
  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer follow_timer_;  // on strand_

  mutable std::mutex state_mutex_;
  bool stopped_ = false;
  std::map<std::string, std::shared_ptr<TrackingCore>> nodes_;  // "host:port"
  std::shared_ptr<const ClusterRoutes> followed_;               // the map nodes_ was made for
  bool announced_on_ = false;
  std::atomic<std::uint64_t> epoch_{0};

  std::mutex queue_mutex_;
  std::deque<TrackingEvent> queue_;
  bool draining_ = false;
  std::recursive_mutex callback_mutex_;  // held while the callback runs
  std::atomic<bool> callbacks_stopped_{false};
};

}  // namespace asyncredis::detail
