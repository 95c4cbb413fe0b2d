#include "tracking/cluster_tracking.hpp"

#include <chrono>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/error.hpp"
#include "client/client_core.hpp"
#include "cluster/cluster_core.hpp"
#include "net/movable_handler.hpp"
#include "net/node_address.hpp"
#include "tracking/tracking_core.hpp"

namespace asyncredis::detail {

namespace {

// How often the slot map is compared with the nodes tracked (a pointer comparison while it
// is the same map). A node that joined is read from untracked until then, at most this long:
// the `lost` that follows drops what was kept meanwhile.
constexpr std::chrono::milliseconds kFollowEvery{250};

std::string key_of(const ClientCore& pool) {
  return describe(NodeAddress{pool.settings().host, pool.settings().port});
}

// Every node the client sends requests to under `routes`.
std::map<std::string, std::shared_ptr<ClientCore>> nodes_of(const ClusterRoutes& routes) {
  std::map<std::string, std::shared_ptr<ClientCore>> out;
  for (const auto& master : routes.masters) out.emplace(key_of(*master), master);
  for (const auto& shard : routes.replicas) {
    for (const auto& replica : shard) out.emplace(key_of(*replica), replica);
  }
  return out;
}

}  // namespace

ClusterTracking::ClusterTracking(std::shared_ptr<ClusterCore> cluster, TrackingOptions options,
                                 ClientTracking::Callback callback)
    : cluster_(std::move(cluster)),
      options_(std::move(options)),
      callback_(std::move(callback)),
      completer_(cluster_->executor()),
      strand_(boost::asio::make_strand(cluster_->executor())),
      follow_timer_(strand_) {}

std::shared_ptr<ClusterTracking> ClusterTracking::start(std::shared_ptr<ClusterCore> cluster,
                                                        TrackingOptions options,
                                                        ClientTracking::Callback callback) {
  if (!cluster->claim_tracking()) {
    throw Error(errc::invalid_argument, "this client has a ClientTracking already");
  }
  auto tracking = std::make_shared<ClusterTracking>(std::move(cluster), std::move(options),
                                                    std::move(callback));
  try {
    // Before connect() the map is empty: the nodes are tracked once the first map is in.
    tracking->follow_routes(true);
  } catch (...) {
    tracking->cluster_->release_tracking();
    throw;
  }
  tracking->arm_follow();
  return tracking;
}

void ClusterTracking::stop() {
  {
    // Waits for a callback running on another thread; none starts after this.
    std::lock_guard callbacks(callback_mutex_);
    callbacks_stopped_ = true;
  }
  std::map<std::string, std::shared_ptr<TrackingCore>> nodes;
  {
    std::lock_guard lock(state_mutex_);
    stopped_ = true;
    nodes.swap(nodes_);
  }
  for (auto& [key, node] : nodes) node->stop();
  boost::asio::post(strand_, [self = shared_from_this()] { self->follow_timer_.cancel(); });
  cluster_->release_tracking();
}

bool ClusterTracking::active() const {
  std::lock_guard lock(state_mutex_);
  return !stopped_ && all_active();
}

// ---- the nodes
// -------------------------------------------------------------------------------

void ClusterTracking::follow_routes(bool first) {
  const auto routes = cluster_->routes();
  {
    std::lock_guard lock(state_mutex_);
    if (stopped_ || !routes || routes == followed_) return;
  }
  auto wanted = nodes_of(*routes);
  std::vector<std::shared_ptr<TrackingCore>> retired;
  std::vector<std::string> fresh;
  {
    std::lock_guard lock(state_mutex_);
    for (auto it = nodes_.begin(); it != nodes_.end();) {
      if (wanted.contains(it->first)) {
        ++it;
      } else {
        retired.push_back(std::move(it->second));
        it = nodes_.erase(it);
      }
    }
    for (const auto& [key, pool] : wanted) {
      if (!nodes_.contains(key)) fresh.push_back(key);
    }
  }
  // Node cores are started and stopped with no lock of ours held: they call back into it.
  for (const auto& node : retired) node->stop();
  std::map<std::string, std::shared_ptr<TrackingCore>> started;
  std::string trouble;
  for (const std::string& key : fresh) {
    try {
      std::weak_ptr<ClusterTracking> weak = weak_from_this();
      started.emplace(key, TrackingCore::start(*wanted.at(key), options_,
                                               [weak, key](const TrackingEvent& event) {
                                                 if (auto self = weak.lock()) {
                                                   self->on_node_event(key, event);
                                                 }
                                               }));
    } catch (const Error& e) {
      if (first) {
        for (auto& [k, node] : started) node->stop();
        throw;
      }
      trouble = key + ": " + e.message();
    }
  }
  {
    std::lock_guard lock(state_mutex_);
    if (stopped_) {
      retired.clear();
      for (auto& [key, node] : started) retired.push_back(node);
    } else {
      // Before the first map there was nothing to read from, so nothing to drop.
      const bool changed = !retired.empty() || (!started.empty() && !nodes_.empty());
      nodes_.merge(started);
      // A node that could not be tracked is tried again with the next look at the map.
      if (trouble.empty()) followed_ = routes;
      if (changed) bump_and_lose("the cluster's nodes changed");
      if (!trouble.empty()) bump_and_lose("a node could not be tracked: " + trouble);
      announce_if_on();
      retired.clear();
    }
  }
  for (const auto& node : retired) node->stop();  // stopped meanwhile
  drain();
}

void ClusterTracking::arm_follow() {
  follow_timer_.expires_after(kFollowEvery);
  follow_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    self->follow_routes(false);
    {
      std::lock_guard lock(self->state_mutex_);
      if (self->stopped_) return;
    }
    self->arm_follow();
  });
}

void ClusterTracking::on_node_event(const std::string& node, const TrackingEvent& event) {
  {
    std::lock_guard lock(state_mutex_);
    // A retired node's last words: its going was told already.
    if (stopped_ || !nodes_.contains(node)) return;
    switch (event.kind) {
      case TrackingEvent::Kind::invalidated: {
        TrackingEvent forwarded = event;
        forwarded.epoch = epoch();
        enqueue(std::move(forwarded));
        break;
      }
      case TrackingEvent::Kind::flushed:
        enqueue(event_of(TrackingEvent::Kind::flushed,
                         epoch_.fetch_add(1, std::memory_order_acq_rel) + 1));
        break;
      case TrackingEvent::Kind::lost:
        bump_and_lose(node + ": " + event.reason);
        break;
      case TrackingEvent::Kind::on:
        announce_if_on();
        break;
    }
  }
  drain();
}

bool ClusterTracking::all_active() const {
  if (nodes_.empty()) return false;
  for (const auto& [key, node] : nodes_) {
    if (!node->active()) return false;
  }
  return true;
}

void ClusterTracking::bump_and_lose(std::string reason) {
  TrackingEvent event =
      event_of(TrackingEvent::Kind::lost, epoch_.fetch_add(1, std::memory_order_acq_rel) + 1);
  event.reason = std::move(reason);
  announced_on_ = false;
  enqueue(std::move(event));
}

void ClusterTracking::announce_if_on() {
  if (announced_on_ || !all_active()) return;
  announced_on_ = true;
  enqueue(event_of(TrackingEvent::Kind::on, epoch()));
}

void ClusterTracking::enqueue(TrackingEvent event) {
  std::lock_guard queue(queue_mutex_);
  queue_.push_back(std::move(event));
}

void ClusterTracking::drain() {
  const auto self = shared_from_this();  // the callback may destroy the ClientTracking
  std::unique_lock queue(queue_mutex_);
  if (draining_) return;  // that thread hands this event over too, in order
  draining_ = true;
  while (!queue_.empty()) {
    TrackingEvent event = std::move(queue_.front());
    queue_.pop_front();
    queue.unlock();
    {
      std::lock_guard callbacks(callback_mutex_);
      if (!callbacks_stopped_) callback_(event);
    }
    queue.lock();
  }
  draining_ = false;
}

// ---- sync
// ------------------------------------------------------------------------------------

void ClusterTracking::sync(SyncHandler handler) {
  struct Gather {
    std::mutex mutex;
    std::size_t left = 0;
    std::exception_ptr first;
    MovableHandler<SyncHandler> handler;  // Boost 1.81: see movable_handler.hpp
  };
  std::vector<std::shared_ptr<TrackingCore>> nodes;
  {
    std::lock_guard lock(state_mutex_);
    if (stopped_) {
      return completer_.call(
          std::move(handler), false,
          std::make_exception_ptr(Error(errc::shutting_down, "ClientTracking: stopped")));
    }
    for (const auto& [key, node] : nodes_) nodes.push_back(node);
  }
  if (nodes.empty()) return completer_.call(std::move(handler), false, std::exception_ptr());
  auto gather = std::make_shared<Gather>();
  gather->left = nodes.size();
  gather->handler = std::move(handler);
  for (const auto& node : nodes) {
    node->sync([gather, completer = completer_](std::exception_ptr error) {
      std::unique_lock lock(gather->mutex);
      if (error && !gather->first) gather->first = error;
      if (--gather->left > 0) return;
      lock.unlock();
      completer.call(gather->handler.take(), false, gather->first);
    });
  }
}

}  // namespace asyncredis::detail
