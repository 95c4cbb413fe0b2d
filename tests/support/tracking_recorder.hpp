// Recorder: the events a ClientTracking reported, kept for a test to look at from any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

#include "asyncredis/tracking.hpp"

namespace asyncredis::test {

class Recorder {
 public:
  ClientTracking::Callback callback() {
    return [this](const TrackingEvent& event) {
      std::lock_guard lock(mutex_);
      events_.push_back(event);
    };
  }
  std::size_t count(TrackingEvent::Kind kind) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        events_.begin(), events_.end(), [&](const TrackingEvent& e) { return e.kind == kind; }));
  }
  bool invalidated(const std::string& key) const {
    std::lock_guard lock(mutex_);
    return std::any_of(events_.begin(), events_.end(), [&](const TrackingEvent& e) {
      return e.kind == TrackingEvent::Kind::invalidated &&
             std::find(e.keys.begin(), e.keys.end(), key) != e.keys.end();
    });
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }
  TrackingEvent last() const {
    std::lock_guard lock(mutex_);
    return events_.back();
  }
  std::string reasons() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const TrackingEvent& e : events_) {
      if (e.kind == TrackingEvent::Kind::lost) out += e.reason + "; ";
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<TrackingEvent> events_;
};

}  // namespace asyncredis::test
