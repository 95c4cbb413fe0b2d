#include "pubsub/shard_router.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>

#include "asyncredis/error.hpp"
#include "client/client_core.hpp"
#include "cluster/cluster_core.hpp"
#include "cluster/redirect.hpp"
#include "cluster/slot.hpp"
#include "net/movable_handler.hpp"
#include "net/node_address.hpp"

namespace asyncredis::detail {

namespace {

using namespace std::chrono_literals;

// How often a lost node's channels are checked against the slot map, and the longest pause
// between two tries to place a moved channel.
constexpr std::chrono::milliseconds kLostCheck = 200ms;
constexpr std::chrono::milliseconds kLongestPause = 1s;

// Calls `done` once every one of `left` parts answered, with the first error.
struct Gather {
  std::size_t left;
  std::function<void(std::exception_ptr)> done;
  std::exception_ptr first = nullptr;
  void one(std::exception_ptr error) {
    if (error && !first) first = error;
    if (--left == 0) done(first);
  }
};

NodeAddress address_of(const ClientCore& pool) {
  return NodeAddress{pool.settings().host, pool.settings().port};
}

// The MOVED a node answered instead of confirming an SSUBSCRIBE, if that is what `error` is.
std::optional<Redirect> moved_in(std::exception_ptr error, std::string_view asked_host) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (e.code() != make_error_code(errc::server_error)) return std::nullopt;
    auto redirect = parse_redirect(e.message(), asked_host);
    if (redirect && redirect->kind == Redirect::Kind::moved) return redirect;
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

ShardRouter::ShardRouter(std::shared_ptr<ClusterCore> cluster, SubscriberOptions options,
                         std::weak_ptr<SubscriberCore> owner)
    : cluster_(std::move(cluster)),
      options_(options),
      owner_(std::move(owner)),
      completer_(cluster_->executor()),
      strand_(asio::make_strand(cluster_->executor())) {}

// ---- what the Subscriber asks
// ------------------------------------------------------------------

void ShardRouter::change(bool add, std::vector<std::string> names, VoidHandler handler) {
  auto pending = std::make_shared<MovableHandler<VoidHandler>>(std::move(handler));
  asio::post(strand_, [self = shared_from_this(), add, names = std::move(names), pending] {
    auto finish = [self, pending](std::exception_ptr error) {
      self->completer_.call(pending->take(), false, error);
    };
    if (self->closed_) {
      return finish(
          std::make_exception_ptr(Error(errc::shutting_down, "the subscriber is closed")));
    }
    if (!add) {
      for (const std::string& name : names) self->wanted_.erase(name);
      self->update_size();
      return self->unsubscribe(names, finish);
    }
    std::vector<std::string> fresh;  // not on a node yet
    for (const std::string& name : names) {
      self->wanted_.insert(name);
      if (!self->where_.contains(name)) fresh.push_back(name);
    }
    self->update_size();
    if (fresh.empty()) return finish(nullptr);
    self->subscribe(fresh, 0, [self, fresh, finish](std::exception_ptr error) {
      // As on one node: a name that failed to subscribe is not kept for the next time.
      for (const std::string& name : fresh) {
        if (error && !self->where_.contains(name)) self->wanted_.erase(name);
      }
      self->update_size();
      finish(error);
    });
  });
}

void ShardRouter::close() {
  size_.store(0, std::memory_order_relaxed);
  asio::post(strand_, [self = shared_from_this()] {
    if (self->closed_) return;
    self->closed_ = true;
    for (auto& [key, node] : self->nodes_) node.core->close();
    for (auto& [key, timer] : self->lost_checks_) timer->cancel();
    self->nodes_.clear();
    self->where_.clear();
    self->wanted_.clear();
  });
}

// ---- placing channels on nodes
// -----------------------------------------------------------------

void ShardRouter::subscribe(std::vector<std::string> names, std::size_t redirects, Done done) {
  struct Group {
    std::shared_ptr<ClientCore> pool;
    std::vector<std::string> names;
  };
  std::map<std::string, Group> groups;
  for (std::string& name : names) {
    std::shared_ptr<ClientCore> pool;
    try {
      pool = cluster_->slot_master(slot_of(name));
    } catch (...) {
      return done(std::current_exception());
    }
    Group& group = groups[describe(address_of(*pool))];
    group.pool = std::move(pool);
    group.names.push_back(std::move(name));
  }
  auto gather = std::make_shared<Gather>(Gather{groups.size(), std::move(done)});
  for (auto& [key, group] : groups) {
    Node& node = node_for(key, *group.pool);
    for (const std::string& name : group.names) {
      node.channels.insert(name);
      where_[name] = key;
    }
    auto answered = [self = shared_from_this(), node_key = key, names = group.names, redirects,
                     gather](std::exception_ptr error) mutable {
      self->placed(node_key, std::move(names), redirects, error,
                   [gather](std::exception_ptr e) { gather->one(e); });
    };
    node.core->change(SubscriberCore::Kind::shard_channel, true, std::move(group.names),
                      asio::bind_executor(strand_, std::move(answered)));
  }
}

void ShardRouter::placed(const std::string& key, std::vector<std::string> names,
                         std::size_t redirects, std::exception_ptr error, Done done) {
  if (!error) return done(nullptr);
  const auto node = nodes_.find(key);
  const std::string host = node == nodes_.end() ? std::string() : node->second.host;
  forget(key, names);
  const auto redirect = moved_in(error, host);
  if (closed_ || !redirect ||
      redirects >= static_cast<std::size_t>(cluster_->settings().cluster.max_redirections)) {
    return done(error);
  }
  // The map was stale: the slot's owner goes into it at once, and the names go there.
  cluster_->moved(*redirect);
  std::erase_if(names, [&](const std::string& name) { return !wanted_.contains(name); });
  if (names.empty()) return done(nullptr);
  subscribe(std::move(names), redirects + 1, std::move(done));
}

void ShardRouter::unsubscribe(const std::vector<std::string>& names, Done done) {
  std::map<std::string, std::vector<std::string>> groups;
  for (const std::string& name : names) {
    const auto at = where_.find(name);
    if (at != where_.end()) groups[at->second].push_back(name);
  }
  if (groups.empty()) return done(nullptr);
  auto gather = std::make_shared<Gather>(Gather{groups.size(), std::move(done)});
  for (auto& [key, group] : groups) {
    forget(key, group);
    nodes_.at(key).core->change(
        SubscriberCore::Kind::shard_channel, false, std::move(group),
        asio::bind_executor(strand_, [gather](std::exception_ptr error) { gather->one(error); }));
  }
}

ShardRouter::Node& ShardRouter::node_for(const std::string& key, ClientCore& pool) {
  const auto found = nodes_.find(key);
  if (found != nodes_.end()) return found->second;
  Node node;
  node.host = pool.settings().host;
  node.core = SubscriberCore::create(pool, options_);
  node.core->forward_to(owner_);
  std::weak_ptr<ShardRouter> weak = weak_from_this();
  node.core->watch_drops([weak, key](std::vector<std::string> names) {
    if (auto self = weak.lock()) {
      asio::post(self->strand_, [self, key, names = std::move(names)]() mutable {
        self->dropped(key, std::move(names));
      });
    }
  });
  node.core->watch_link([weak, key](std::optional<std::int64_t> ready) {
    if (auto self = weak.lock()) {
      asio::post(self->strand_,
                 [self, key, up = ready.has_value()] { self->link_changed(key, up); });
    }
  });
  return nodes_.emplace(key, std::move(node)).first->second;
}

void ShardRouter::forget(const std::string& key, const std::vector<std::string>& names) {
  const auto node = nodes_.find(key);
  for (const std::string& name : names) {
    const auto at = where_.find(name);
    if (at != where_.end() && at->second == key) where_.erase(at);
    if (node != nodes_.end()) node->second.channels.erase(name);
  }
}

// ---- following slots
// ---------------------------------------------------------------------------

void ShardRouter::move(std::vector<std::string> names, std::chrono::milliseconds pause) {
  std::erase_if(names, [&](const std::string& name) {
    return !wanted_.contains(name) || where_.contains(name);
  });
  if (names.empty() || closed_) return;
  auto go = [self = shared_from_this(), names, pause] {
    if (self->closed_) return;
    self->subscribe(names, 0, [self, names, pause](std::exception_ptr) {
      const bool any_placed = std::any_of(names.begin(), names.end(), [&](const auto& name) {
        return self->where_.contains(name);
      });
      // What was published while the channels were away is lost: receive() says so.
      if (any_placed) {
        if (auto owner = self->owner_.lock()) owner->note_gap();
      }
      self->move(names, std::clamp(pause * 2, std::chrono::milliseconds(50), kLongestPause));
    });
  };
  if (pause.count() == 0) return go();
  auto timer = std::make_shared<asio::steady_timer>(strand_, pause);
  timer->async_wait([timer, go](const boost::system::error_code&) { go(); });
}

void ShardRouter::dropped(const std::string& key, std::vector<std::string> names) {
  if (closed_) return;
  forget(key, names);
  cluster_->request_refresh();
  move(std::move(names), std::chrono::milliseconds(0));
}

void ShardRouter::link_changed(const std::string& key, bool up) {
  const auto node = nodes_.find(key);
  if (closed_ || node == nodes_.end() || node->second.lost == !up) return;
  node->second.lost = !up;
  if (up) return;
  auto& timer = lost_checks_[key];
  if (!timer) timer = std::make_unique<asio::steady_timer>(strand_);
  check_lost(key);
}

void ShardRouter::check_lost(const std::string& key) {
  const auto node = nodes_.find(key);
  if (closed_ || node == nodes_.end() || !node->second.lost) {
    lost_checks_.erase(key);
    return;
  }
  std::vector<std::string> moving;
  for (const std::string& name : node->second.channels) {
    try {
      if (describe(address_of(*cluster_->slot_master(slot_of(name)))) != key) {
        moving.push_back(name);
      }
    } catch (const Error&) {
      // No master for the slot in the map now: ask again below.
    }
  }
  if (!moving.empty()) {
    forget(key, moving);
    node->second.core->forget_shard_channels(moving);
    if (node->second.channels.empty()) {
      // Nothing left there: stop reconnecting to a node that may never come back.
      node->second.core->close();
      nodes_.erase(node);
      lost_checks_.erase(key);
    }
    move(std::move(moving), std::chrono::milliseconds(0));
    if (!nodes_.contains(key)) return;
  }
  cluster_->request_refresh();
  asio::steady_timer& timer = *lost_checks_.at(key);
  timer.expires_after(kLostCheck);
  timer.async_wait([weak = weak_from_this(), key](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (self && !ec) self->check_lost(key);
  });
}

}  // namespace asyncredis::detail
