// TrackingCore: what a ClientTracking is (see asyncredis/tracking.hpp).
//
// Three sources tell it things, on several threads: the subscriber connection (its link
// watcher: lost, or ready with a CLIENT ID; and the invalidation messages it receives), and
// the client's pooled connections (TrackingHook::report: down, up untracked, tracked with a
// plan's version, CLIENT TRACKING refused). From them it keeps one picture: is the subscriber
// ready, with which id (each new id is a new plan version), and where each connection
// stands. Tracking is active when the subscriber is ready and every live connection is
// tracked with the current version; any way out of that is a `lost` event (epoch bumped).
//
// Locks: events_mutex_ (recursive: the callback may destroy the ClientTracking) is held from
// the moment a change is decided until its events were delivered, so that events reach the
// callback in the order they happened; state_mutex_ guards the picture and is never held
// while calling out. plan() (from a connection's handshake) takes state_mutex_ only.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/subscriber.hpp"
#include "asyncredis/tracking.hpp"
#include "net/tracking_hook.hpp"

namespace asyncredis::detail {

class ClientCore;
class Connection;
class SubscriberCore;

// An event of `kind` at `epoch`, with no keys and no reason.
TrackingEvent event_of(TrackingEvent::Kind kind, std::uint64_t epoch);

class TrackingCore final : public TrackingHook, public std::enable_shared_from_this<TrackingCore> {
 public:
  // Use start(); public for make_shared.
  TrackingCore(ClientCore& client, TrackingOptions options, ClientTracking::Callback callback);
  // Throws Error(errc::invalid_argument) when the client's slot is taken already.
  static std::shared_ptr<TrackingCore> start(ClientCore& client, TrackingOptions options,
                                             ClientTracking::Callback callback);
  // ~ClientTracking: no callback once it returns; connections untracked; subscriber closed.
  void stop();

  bool active() const noexcept { return active_.load(std::memory_order_acquire); }
  // ClientTracking::sync: a SUBSCRIBE round trip on the invalidation connection, then a wait
  // until every message received before its reply has been handed to the callback.
  using SyncHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
  void sync(SyncHandler handler);
  std::uint64_t epoch() const noexcept { return epoch_.load(std::memory_order_acquire); }
  std::optional<std::int64_t> redirect_id() const;

  // TrackingHook, from the connections' strands.
  std::optional<TrackingPlan> plan() override;
  void report(const Connection& connection, const TrackingReport& report) override;

 private:
  using Events = std::vector<TrackingEvent>;

  void subscribe();
  void on_subscribed(std::exception_ptr error, std::uint64_t link_generation);
  void retry_subscribe();
  void on_link(std::optional<std::int64_t> ready_id);
  void receive();
  void on_message(const Message& message);

  // Under state_mutex_. The plan for the current id; asks every live connection to use it.
  std::string command_for(std::int64_t id) const;
  void retrack_live(std::vector<std::shared_ptr<Connection>>& out);
  // Under state_mutex_: tracking may have stopped being true (epoch bumped, `lost` queued).
  void lose(std::string reason, Events& out);
  // Under state_mutex_: whether the picture is all good, and the `on`/`lost` that follows.
  void recompute_active(Events& out);
  // Holding events_mutex_; sends the retracks, then the events.
  void deliver(Events& events, std::vector<std::shared_ptr<Connection>>& retracks);

  ClientCore& client_;
  const TrackingOptions options_;
  const ClientTracking::Callback callback_;
  std::shared_ptr<SubscriberCore> subscriber_;
  std::vector<std::shared_ptr<Connection>> pooled_;
  boost::asio::steady_timer retry_timer_;
  std::chrono::milliseconds retry_delay_;

  std::recursive_mutex events_mutex_;
  bool stopped_ = false;  // under events_mutex_
  // Messages handed over so far (dropped ones included): what sync() waits for.
  std::uint64_t taken_ = 0;  // under events_mutex_
  struct SyncWaiter {
    std::uint64_t received;  // the subscriber's count when the round trip came back
    SyncHandler handler;
  };
  std::vector<SyncWaiter> sync_waiters_;  // under events_mutex_

  // Under events_mutex_: completes the sync() calls whose messages were all handed over.
  void complete_syncs();
  void complete_sync(SyncHandler handler, std::exception_ptr error);

  mutable std::mutex state_mutex_;
  std::optional<std::int64_t> redirect_id_;  // the subscriber is ready, with this id
  std::uint64_t version_ = 0;                // bumped with each new redirect_id_
  std::unordered_map<const Connection*, TrackingReport> links_;

  std::atomic<bool> active_{false};
  std::atomic<std::uint64_t> epoch_{0};
};

}  // namespace asyncredis::detail
