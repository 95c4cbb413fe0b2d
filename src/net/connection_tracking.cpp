// Connection: its part in client-side caching (see net/tracking_hook.hpp).
#include <algorithm>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>

#include "asyncredis/command.hpp"
#include "net/connection.hpp"

namespace asyncredis::detail {

namespace {

bool is_ok(const Reply& reply) {
  return reply.is_string() && !reply.is_error() && reply.str() == "OK";
}

}  // namespace

std::optional<TrackingPlan> Connection::add_tracking(std::string& handshake_payload) {
  tracking_state_ = TrackingReport{TrackingReport::State::untracked, 0, {}};
  if (!tracking_) return std::nullopt;
  const std::shared_ptr<TrackingHook> hook = tracking_->get();
  if (!hook) return std::nullopt;
  std::optional<TrackingPlan> plan = hook->plan();
  if (plan) handshake_payload += plan->command;
  return plan;
}

void Connection::check_tracking(const TrackingPlan& plan, const Reply& reply) {
  if (reply.is_error()) {
    // Not a reason to refuse the connection: the client works without tracking, and the
    // hook turns client-side caching off.
    tracking_state_ = TrackingReport{TrackingReport::State::failed, plan.version, reply.str()};
    return;
  }
  if (!is_ok(reply)) {
    throw Error(errc::protocol_error, transport_.peer() +
                                          ": handshake CLIENT TRACKING: expected +OK, got " +
                                          to_debug_string(reply));
  }
  tracking_state_ = TrackingReport{TrackingReport::State::tracked, plan.version, {}};
}

void Connection::report_tracking(TrackingReport report) {
  if (!tracking_) return;
  if (const std::shared_ptr<TrackingHook> hook = tracking_->get()) hook->report(*this, report);
}

void Connection::retrack(TrackingPlan plan) {
  asio::dispatch(strand_, [self = shared_from_this(), plan = std::move(plan)]() mutable {
    if (self->state_ != State::up) return;
    Request request;
    // Off first: a connection tracked already cannot be switched (BCAST, prefixes) in place.
    encode_command(request.payload, "CLIENT", "TRACKING", "off");
    request.payload += plan.command;
    request.reply_count = plan.command.empty() ? 1 : 2;  // empty: only off
    request.deliver = Deliver::array;
    const std::uint64_t generation = self->generation_;
    auto done = [weak = self->weak_from_this(), generation, version = plan.version](
                    std::exception_ptr error, Reply&& replies) {
      const auto self = weak.lock();
      // Lost meanwhile (reported as down), or not sent at all: the next handshake tracks it.
      if (!self || error || generation != self->generation_) return;
      const std::vector<Reply>& each = replies.elements();
      if (std::all_of(each.begin(), each.end(), is_ok)) {
        self->report_tracking(TrackingReport{TrackingReport::State::tracked, version, {}});
        return;
      }
      std::string why = "CLIENT TRACKING refused";
      for (const Reply& reply : each) {
        if (reply.is_error()) why = reply.str();
      }
      self->report_tracking(TrackingReport{TrackingReport::State::failed, version, why});
    };
    self->submit(std::move(request), asio::bind_executor(self->strand_, std::move(done)));
  });
}

}  // namespace asyncredis::detail
