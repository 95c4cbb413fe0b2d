#include "tracking/tracking_core.hpp"

#include <algorithm>

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "client/client_core.hpp"
#include "net/connection.hpp"
#include "pubsub/pushed_message.hpp"
#include "pubsub/subscriber_core.hpp"

namespace asyncredis::detail {

namespace {

std::string error_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

TrackingEvent event_of(TrackingEvent::Kind kind, std::uint64_t epoch) {
  TrackingEvent event;
  event.kind = kind;
  event.epoch = epoch;
  return event;
}

TrackingCore::TrackingCore(ClientCore& client, TrackingOptions options,
                           ClientTracking::Callback callback)
    : client_(client),
      options_(std::move(options)),
      callback_(std::move(callback)),
      pooled_(client.pooled()),
      retry_timer_(client.executor()),
      retry_delay_(client.settings().reconnect_min_delay) {}

std::shared_ptr<TrackingCore> TrackingCore::start(ClientCore& client, TrackingOptions options,
                                                  ClientTracking::Callback callback) {
  auto core = std::make_shared<TrackingCore>(client, std::move(options), std::move(callback));
  if (!client.tracking_slot().set_if_empty(core)) {
    throw Error(errc::invalid_argument, "this client has a ClientTracking already");
  }
  std::vector<std::shared_ptr<Connection>> retracks;
  {
    std::lock_guard lock(core->state_mutex_);
    // Connections that reported since the slot was set know better; the others are as
    // is_up() says, and their next change reports itself.
    for (const auto& connection : core->pooled_) {
      TrackingReport state;
      if (connection->is_up()) state.state = TrackingReport::State::untracked;
      core->links_.try_emplace(connection.get(), state);
    }
  }
  core->subscriber_ = SubscriberCore::create(client, SubscriberOptions{});
  core->subscriber_->watch_link(
      [weak = std::weak_ptr<TrackingCore>(core)](std::optional<std::int64_t> ready_id) {
        if (auto self = weak.lock()) self->on_link(ready_id);
      });
  core->subscribe();
  core->receive();
  return core;
}

void TrackingCore::stop() {
  {
    std::lock_guard events(events_mutex_);
    stopped_ = true;
    for (SyncWaiter& waiter : sync_waiters_) {
      complete_sync(std::move(waiter.handler),
                    std::make_exception_ptr(Error(errc::shutting_down, "ClientTracking: stopped")));
    }
    sync_waiters_.clear();
  }
  client_.tracking_slot().set(nullptr);
  {
    std::lock_guard lock(state_mutex_);
    retry_timer_.cancel();
    redirect_id_.reset();
    active_.store(false, std::memory_order_release);
  }
  // The server would go on tracking for a client nobody listens to.
  for (const auto& connection : pooled_) connection->retrack(TrackingPlan{});
  subscriber_->shutdown();
}

std::optional<std::int64_t> TrackingCore::redirect_id() const {
  std::lock_guard lock(state_mutex_);
  return redirect_id_;
}

// ---- the subscriber connection
// ---------------------------------------------------------------

void TrackingCore::subscribe() {
  const std::uint64_t link = subscriber_->link_generation();
  std::vector<std::string> channel{std::string(invalidation_channel)};
  subscriber_->change(SubscriberCore::Kind::channel, true, std::move(channel),
                      [weak = weak_from_this(), link](std::exception_ptr error) {
                        if (auto self = weak.lock()) self->on_subscribed(error, link);
                      });
}

void TrackingCore::on_subscribed(std::exception_ptr error, std::uint64_t link_generation) {
  if (error) {
    Events events;
    std::vector<std::shared_ptr<Connection>> none;
    std::lock_guard guard(events_mutex_);
    if (stopped_) return;  // the subscriber was closed by stop()
    {
      std::lock_guard lock(state_mutex_);
      lose("cannot subscribe to " + std::string(invalidation_channel) + ": " + error_text(error),
           events);
    }
    deliver(events, none);
    retry_subscribe();
    return;
  }
  // Lost since the SUBSCRIBE was sent: the resubscription reports the new connection.
  if (subscriber_->link_generation() != link_generation) return;
  if (const std::optional<std::int64_t> id = subscriber_->client_id()) on_link(id);
}

// The first subscription failed (the server unreachable, say): the subscriber does not
// retry what was never subscribed, so this does, with the client's backoff bounds.
void TrackingCore::retry_subscribe() {
  std::lock_guard lock(state_mutex_);
  retry_timer_.expires_after(retry_delay_);
  retry_delay_ = std::min(retry_delay_ * 2, client_.settings().reconnect_max_delay);
  retry_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (!self || ec) return;
    {
      std::lock_guard events(self->events_mutex_);
      if (self->stopped_) return;
    }
    self->subscribe();
  });
}

void TrackingCore::on_link(std::optional<std::int64_t> ready_id) {
  Events events;
  std::vector<std::shared_ptr<Connection>> retracks;
  std::lock_guard guard(events_mutex_);
  if (stopped_) return;
  {
    std::lock_guard lock(state_mutex_);
    if (!ready_id) {
      redirect_id_.reset();
      lose("the invalidation connection was lost", events);
    } else {
      redirect_id_ = ready_id;
      ++version_;
      retry_delay_ = client_.settings().reconnect_min_delay;
      retrack_live(retracks);
      recompute_active(events);
    }
  }
  deliver(events, retracks);
}

void TrackingCore::receive() {
  subscriber_->receive(
      [weak = weak_from_this()](std::exception_ptr error, std::optional<Message> message) {
        auto self = weak.lock();
        if (!self || error || !message) return;  // closed: stop() was called
        self->on_message(*message);
        while (auto more = self->subscriber_->try_receive()) self->on_message(*more);
        self->receive();
      });
}

void TrackingCore::sync(SyncHandler handler) {
  {
    std::lock_guard guard(events_mutex_);
    if (stopped_) {
      complete_sync(std::move(handler),
                    std::make_exception_ptr(Error(errc::shutting_down, "ClientTracking: stopped")));
      return;
    }
  }
  // SUBSCRIBE to the channel it is on already: its reply comes after every invalidation the
  // server sent before it, on the same connection.
  std::vector<std::string> channel{std::string(invalidation_channel)};
  subscriber_->change(
      SubscriberCore::Kind::channel, true, std::move(channel),
      [weak = weak_from_this(), handler = std::move(handler)](std::exception_ptr error) mutable {
        auto self = weak.lock();
        if (!self) return;
        std::lock_guard guard(self->events_mutex_);
        if (error || self->stopped_) {
          if (!error) {
            error = std::make_exception_ptr(Error(errc::shutting_down, "ClientTracking: stopped"));
          }
          self->complete_sync(std::move(handler), error);
          return;
        }
        self->sync_waiters_.push_back(
            SyncWaiter{self->subscriber_->stats().received, std::move(handler)});
        self->complete_syncs();
      });
}

void TrackingCore::complete_syncs() {
  auto ready = [this](const SyncWaiter& waiter) { return waiter.received <= taken_; };
  for (SyncWaiter& waiter : sync_waiters_) {
    if (ready(waiter)) complete_sync(std::move(waiter.handler), nullptr);
  }
  std::erase_if(sync_waiters_, ready);
}

void TrackingCore::complete_sync(SyncHandler handler, std::exception_ptr error) {
  // Completes on the handler's own executor (post's rule), the client's by default.
  boost::asio::post(retry_timer_.get_executor(),
                    boost::asio::append(std::move(handler), std::move(error)));
}

void TrackingCore::on_message(const Message& message) {
  Events events;
  std::vector<std::shared_ptr<Connection>> none;
  std::lock_guard guard(events_mutex_);
  if (stopped_) return;
  taken_ += message.dropped + (message.kind == Message::Kind::resubscribed ? 0 : 1);
  if (message.dropped > 0) {
    // Invalidations were dropped (the buffer was full): any key may have changed.
    const std::uint64_t epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    events.push_back(event_of(TrackingEvent::Kind::flushed, epoch));
  }
  if (message.kind == Message::Kind::invalidated) {
    TrackingEvent event = event_of(TrackingEvent::Kind::invalidated, epoch());
    event.keys = message.keys;
    events.push_back(std::move(event));
  } else if (message.kind == Message::Kind::invalidated_all) {
    const std::uint64_t epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
    events.push_back(event_of(TrackingEvent::Kind::flushed, epoch));
  }
  deliver(events, none);
  complete_syncs();
}

// ---- the data connections
// --------------------------------------------------------------------

std::optional<TrackingPlan> TrackingCore::plan() {
  std::lock_guard lock(state_mutex_);
  if (!redirect_id_) return std::nullopt;
  return TrackingPlan{version_, command_for(*redirect_id_)};
}

std::string TrackingCore::command_for(std::int64_t id) const {
  std::vector<std::string> args{"CLIENT", "TRACKING", "on", "REDIRECT", std::to_string(id)};
  if (options_.broadcast) args.emplace_back("BCAST");
  for (const std::string& prefix : options_.prefixes) {
    args.emplace_back("PREFIX");
    args.push_back(prefix);
  }
  if (options_.noloop) args.emplace_back("NOLOOP");
  std::string out;
  encode_command(out, args);
  return out;
}

void TrackingCore::retrack_live(std::vector<std::shared_ptr<Connection>>& out) {
  for (const auto& connection : pooled_) {
    TrackingReport& link = links_[connection.get()];
    if (link.state == TrackingReport::State::down) continue;
    if (link.state == TrackingReport::State::tracked && link.version == version_) continue;
    link.state = TrackingReport::State::untracked;
    out.push_back(connection);
  }
}

void TrackingCore::report(const Connection& connection, const TrackingReport& report) {
  Events events;
  std::vector<std::shared_ptr<Connection>> retracks;
  std::lock_guard guard(events_mutex_);
  if (stopped_) return;
  {
    std::lock_guard lock(state_mutex_);
    TrackingReport& link = links_[&connection];
    const TrackingReport::State was = link.state;
    link = report;
    using State = TrackingReport::State;
    switch (report.state) {
      case State::down:
        if (was != State::down) lose("a data connection was lost", events);
        break;
      case State::failed:
        lose("CLIENT TRACKING failed on a data connection: " + report.why, events);
        break;
      case State::tracked:
        if (redirect_id_ && report.version == version_) break;
        link.state = State::untracked;  // tracked for an older subscriber connection
        [[fallthrough]];
      case State::untracked:
        if (redirect_id_) retrack_live(retracks);
        break;
    }
    recompute_active(events);
  }
  deliver(events, retracks);
}

// ---- the picture
// -----------------------------------------------------------------------------

void TrackingCore::lose(std::string reason, Events& out) {
  active_.store(false, std::memory_order_release);
  TrackingEvent event =
      event_of(TrackingEvent::Kind::lost, epoch_.fetch_add(1, std::memory_order_acq_rel) + 1);
  event.reason = std::move(reason);
  out.push_back(std::move(event));
}

void TrackingCore::recompute_active(Events& out) {
  bool all_tracked = redirect_id_.has_value();
  for (const auto& [connection, link] : links_) {
    if (!all_tracked) break;
    all_tracked = link.state == TrackingReport::State::down ||
                  (link.state == TrackingReport::State::tracked && link.version == version_);
  }
  const bool was = active_.load(std::memory_order_acquire);
  if (all_tracked && !was) {
    active_.store(true, std::memory_order_release);
    out.push_back(event_of(TrackingEvent::Kind::on, epoch()));
  } else if (!all_tracked && was) {
    // A connection came up untracked, say: what is read on it from now on is not watched.
    lose("a live data connection is not tracked", out);
  }
}

void TrackingCore::deliver(Events& events, std::vector<std::shared_ptr<Connection>>& retracks) {
  if (!retracks.empty()) {
    std::optional<TrackingPlan> current = plan();
    if (current) {
      for (const auto& connection : retracks) connection->retrack(*current);
    }
  }
  for (const TrackingEvent& event : events) {
    if (stopped_) return;  // the callback destroyed the ClientTracking
    callback_(event);
  }
}

}  // namespace asyncredis::detail
