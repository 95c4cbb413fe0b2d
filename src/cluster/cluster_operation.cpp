#include "cluster/cluster_operation.hpp"

#include <time.h>

#include <algorithm>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "cluster/cluster_core.hpp"
#include "cluster/redirect.hpp"

namespace asyncredis::detail {

namespace {

constexpr std::chrono::milliseconds kFirstPause{10};
constexpr std::chrono::milliseconds kLongestPause{320};

bool is_redirect_or_later(const Reply& reply, const std::string& host) {
  return reply.is_error() &&
         (says_try_later(reply.str()) || parse_redirect(reply.str(), host).has_value());
}

}  // namespace

ClusterOperation::Clock::time_point ClusterOperation::coarse_now() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);  // the clock steady_clock reads, coarsely
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
      std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec)));
}

void ClusterOperation::start(std::shared_ptr<ClusterCore> core, Request&& request,
                             ReplyHandler&& handler) {
  const auto routes = core->routes();
  Plan plan;
  try {
    plan = plan_request(request, *routes->commands, routes->masters.size());
  } catch (...) {
    core->completer().call(std::move(handler), false, std::current_exception(), Reply());
    return;
  }
  auto operation = std::make_shared<ClusterOperation>(std::move(core), request, std::move(handler),
                                                      std::move(plan));
  operation->send_all(*routes);
}

ClusterOperation::ClusterOperation(std::shared_ptr<ClusterCore> core, const Request& request,
                                   ReplyHandler&& handler, Plan&& plan)
    : core_(std::move(core)),
      handler_(std::move(handler)),
      plan_(std::move(plan)),
      deliver_(request.deliver),
      retry_on_reconnect_(request.retry_on_reconnect),
      check_commands_(request.check_commands),
      deadline_(coarse_now() + (request.timeout.count() > 0 ? request.timeout
                                                            : core_->settings().command_timeout)),
      replies_(plan_.pieces.size()),
      hops_(plan_.pieces.size(), 0),
      pending_(plan_.pieces.size()) {}

std::chrono::milliseconds ClusterOperation::time_left() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - coarse_now());
}

void ClusterOperation::send_all(const ClusterRoutes& routes) {
  if (plan_.pieces.size() == 1) return route_one(0, routes);
  std::vector<std::pair<std::shared_ptr<ClientCore>, PieceList>> groups;
  std::vector<std::pair<std::uint32_t, std::string>> unroutable;
  for (std::uint32_t i = 0; i < plan_.pieces.size(); ++i) {
    const Piece& piece = plan_.pieces[i];
    std::string why;
    auto pool = core_->pool_for(routes, piece.target, piece.readonly, why);
    if (!pool) {
      unroutable.emplace_back(i, std::move(why));
      continue;
    }
    auto group =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == pool; });
    if (group == groups.end()) {
      groups.emplace_back(std::move(pool), PieceList{i});
    } else {
      group->second.push_back(i);
    }
  }
  if (!unroutable.empty()) core_->request_refresh();
  for (auto& [piece, why] : unroutable) later(piece, Reply::error(std::move(why)));
  for (auto& [pool, pieces] : groups) send(pool, std::move(pieces), false);
}

bool ClusterOperation::wrapped(const PieceList& pieces, bool asking) const {
  return pieces.size() != 1 || (!asking && plan_.pieces[pieces.front()].reply_count != 1);
}

void ClusterOperation::send(const std::shared_ptr<ClientCore>& pool, PieceList pieces,
                            bool asking) {
  Request request;
  // Never 0 (that would mean the default timeout): a late resend gets a last millisecond.
  request.timeout = std::max(time_left(), std::chrono::milliseconds(1));
  request.retry_on_reconnect = retry_on_reconnect_;
  request.check_commands = check_commands_;
  std::uint32_t replies = 0;
  if (asking) {
    encode_command(request.payload, "ASKING");
    ++replies;
  }
  for (auto piece : pieces) {
    request.payload += plan_.pieces[piece].payload;
    replies += plan_.pieces[piece].reply_count;
  }
  request.reply_count = replies;
  const bool as_array = wrapped(pieces, asking);
  request.deliver = as_array ? Deliver::array : (asking ? Deliver::last : Deliver::single);
  auto on_reply = [self = shared_from_this(), pieces = std::move(pieces), as_array,
                   host = pool->settings().host](std::exception_ptr error, Reply&& reply) {
    self->on_replies(pieces, as_array, host, error, std::move(reply));
  };
  // A request sent whole follows the caller's cancellation; a split one ends by its timeout.
  auto slot = boost::asio::get_associated_cancellation_slot(handler_);
  if (plan_.pieces.size() == 1 && slot.is_connected()) {
    pool->submit(std::move(request),
                 boost::asio::bind_cancellation_slot(slot, std::move(on_reply)));
  } else {
    pool->submit(std::move(request), std::move(on_reply));
  }
}

void ClusterOperation::on_replies(const PieceList& pieces, bool as_array,
                                  const std::string& asked_host, std::exception_ptr error,
                                  Reply&& reply) {
  if (error) {
    // A node lost or unreachable may mean a failover: the map is asked for again.
    core_->request_refresh();
    // A node known to be down refuses what was never written (not_connected: the node pools
    // fail fast); that may wait, pausing and asking the map again, for the slot's new master
    // until the request's timeout. What was on the wire (connection_lost) is not sent twice.
    const bool never_sent = error_code_of(error) == errc::not_connected;
    for (auto piece : pieces) {
      if (never_sent && !core_->settings().fail_fast) {
        later(piece, Reply(), error);
      } else {
        failed(piece, error);
      }
    }
    return;
  }
  if (!as_array) return examine(pieces.front(), asked_host, std::move(reply));
  auto& elements = reply.elements();
  std::size_t expected = 0;
  for (auto piece : pieces) expected += plan_.pieces[piece].reply_count;
  if (elements.size() != expected) {
    auto mismatch = std::make_exception_ptr(
        Error(errc::protocol_error, "a cluster node sent " + std::to_string(elements.size()) +
                                        " replies for " + std::to_string(expected) + " commands"));
    for (auto piece : pieces) failed(piece, mismatch);
    return;
  }
  std::size_t next = 0;
  for (auto piece : pieces) {
    const std::uint32_t count = plan_.pieces[piece].reply_count;
    if (count == 1) {
      examine(piece, asked_host, std::move(elements[next]));
    } else {
      std::vector<Reply> own(std::make_move_iterator(elements.begin() + next),
                             std::make_move_iterator(elements.begin() + next + count));
      examine(piece, asked_host, Reply::array(std::move(own)));
    }
    next += count;
  }
}

void ClusterOperation::examine(std::uint32_t piece, const std::string& asked_host, Reply&& reply) {
  const Reply* trouble = nullptr;
  if (plan_.transaction) {
    // A queued command that was redirected made the server discard the whole transaction
    // (EXECABORT): nothing ran, so it may be sent again where the slot is now.
    for (const auto& element : reply.elements()) {
      if (is_redirect_or_later(element, asked_host)) {
        trouble = &element;
        break;
      }
    }
  } else if (reply.is_error()) {
    trouble = &reply;
  }
  if (trouble == nullptr) return done(piece, std::move(reply));
  if (auto redirect = parse_redirect(trouble->str(), asked_host)) {
    if (++hops_[piece] > core_->settings().cluster.max_redirections) {
      return done(piece, std::move(reply));
    }
    auto target = core_->pool_at(redirect->target);
    if (redirect->kind == Redirect::Kind::moved) {
      core_->moved(*redirect);
      return send(target, {piece}, false);
    }
    // ASKING covers one command; a transaction waits until the migration is over.
    if (plan_.transaction) return later(piece, std::move(reply));
    return send(target, {piece}, true);
  }
  if (says_try_later(trouble->str())) {
    if (trouble->str().starts_with("CLUSTERDOWN")) core_->request_refresh();
    return later(piece, std::move(reply));
  }
  done(piece, std::move(reply));
}

void ClusterOperation::later(std::uint32_t piece, Reply&& reply, std::exception_ptr error) {
  std::chrono::milliseconds pause;
  {
    std::lock_guard lock(mutex_);
    if (!backoff_)
      backoff_.emplace(kFirstPause, kLongestPause, reinterpret_cast<std::uintptr_t>(this));
    pause = backoff_->next();
  }
  pause = std::max(std::chrono::milliseconds(0), std::min(pause, time_left()));
  auto timer = std::make_shared<boost::asio::steady_timer>(core_->executor(), pause);
  timer->async_wait([self = shared_from_this(), timer, piece, reply = std::move(reply),
                     error](boost::system::error_code) mutable {
    // Out of time: the caller gets what the cluster last said (TRYAGAIN, CLUSTERDOWN, a node
    // that could not be reached, ...).
    if (self->time_left().count() <= 0) {
      if (error) return self->failed(piece, error);
      return self->done(piece, std::move(reply));
    }
    self->route_one(piece, *self->core_->routes());
  });
}

void ClusterOperation::route_one(std::uint32_t piece, const ClusterRoutes& routes) {
  const Piece& planned = plan_.pieces[piece];
  std::string why;
  auto pool = core_->pool_for(routes, planned.target, planned.readonly, why);
  if (!pool) {
    core_->request_refresh();
    return later(piece, Reply::error(std::move(why)));
  }
  send(pool, {piece}, false);
}

void ClusterOperation::done(std::uint32_t piece, Reply&& reply) {
  replies_[piece] = std::move(reply);
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
}

void ClusterOperation::failed(std::uint32_t piece, std::exception_ptr error) {
  {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = std::move(error);
  }
  (void)piece;
  if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish();
}

void ClusterOperation::finish() {
  std::exception_ptr error;
  {
    std::lock_guard lock(mutex_);
    error = error_;
  }
  Reply result;
  if (!error) {
    if (plan_.transaction) {
      result = std::move(replies_.front());
      if (deliver_ == Deliver::last) {
        auto& elements = result.elements();
        result = elements.empty() ? Reply() : std::move(elements.back());
      }
    } else if (deliver_ == Deliver::single) {
      result = merge_replies(plan_.commands.front(), plan_.pieces, replies_);
    } else {
      std::vector<Reply> merged;
      merged.reserve(plan_.commands.size());
      for (const auto& command : plan_.commands) {
        merged.push_back(merge_replies(command, plan_.pieces, replies_));
      }
      result =
          deliver_ == Deliver::last ? std::move(merged.back()) : Reply::array(std::move(merged));
    }
  }
  core_->completer().call(std::move(handler_), true, error, std::move(result));
}

}  // namespace asyncredis::detail
