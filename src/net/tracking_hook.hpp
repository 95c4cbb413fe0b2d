// How a pool's connections take part in client-side caching (CLIENT TRACKING, see
// asyncredis/tracking.hpp): the client's pooled connections share one TrackingSlot; while a
// ClientTracking exists, its TrackingHook sits in the slot. A connection then adds the hook's
// CLIENT TRACKING command to its handshake, and tells the hook when it is up (tracked or not)
// and when it is down. With an empty slot a connection behaves exactly as without tracking.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace asyncredis::detail {

class Connection;

// What a connection sends to be tracked: `command` (RESP, "CLIENT TRACKING on REDIRECT ..."),
// for the subscriber connection numbered `version` by the hook.
struct TrackingPlan {
  std::uint64_t version = 0;
  std::string command;
};

// Where a connection stands; the hook's view of it.
struct TrackingReport {
  enum class State : std::uint8_t {
    down,       // lost, or stopped
    untracked,  // up, without tracking (the hook had no plan when it connected)
    tracked,    // up, tracked by the plan numbered `version`
    failed,     // up, but CLIENT TRACKING was refused (`why`)
  };
  State state = State::down;
  std::uint64_t version = 0;
  std::string why;
};

// Implemented by the tracking core; called from the connections' strands, so it locks.
class TrackingHook {
 public:
  virtual ~TrackingHook() = default;
  // The command a connection that connects now sends; nothing while there is none to send
  // (no subscriber connection yet).
  virtual std::optional<TrackingPlan> plan() = 0;
  virtual void report(const Connection& connection, const TrackingReport& report) = 0;
};

// Shared by a client's pooled connections; set and cleared by the tracking core.
class TrackingSlot {
 public:
  void set(std::shared_ptr<TrackingHook> hook) {
    std::lock_guard lock(mutex_);
    hook_ = std::move(hook);
  }
  // Sets `hook` unless one is there; false when one was.
  bool set_if_empty(std::shared_ptr<TrackingHook> hook) {
    std::lock_guard lock(mutex_);
    if (hook_) return false;
    hook_ = std::move(hook);
    return true;
  }
  std::shared_ptr<TrackingHook> get() const {
    std::lock_guard lock(mutex_);
    return hook_;
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<TrackingHook> hook_;
};

}  // namespace asyncredis::detail
