#include "sentinel/sentinel_watcher.hpp"

#include <sstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "sentinel/replica_balance.hpp"
#include "sentinel/sentinel_link.hpp"

namespace asyncredis::detail {

namespace {

// After a sentinel failed: how long before trying it again.
constexpr std::chrono::milliseconds kPauseAfterFailure{500};

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(std::move(word));
  return out;
}

}  // namespace

SentinelWatcher::SentinelWatcher(asio::any_io_executor executor,
                                 std::shared_ptr<SentinelResolver> resolver,
                                 std::vector<std::weak_ptr<Connection>> connections)
    : strand_(asio::make_strand(executor)),
      resolver_(std::move(resolver)),
      connections_(std::move(connections)),
      links_(resolver_->size(), nullptr) {}

void SentinelWatcher::start() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    if (self->running_) return;
    self->running_ = true;
    const std::uint64_t run_id = ++self->run_id_;
    for (std::size_t i = 0; i < self->links_.size(); ++i) {
      asio::co_spawn(self->strand_, self->run(run_id, i), [](std::exception_ptr) {});
    }
  });
}

void SentinelWatcher::stop() {
  asio::dispatch(strand_, [self = shared_from_this()] {
    self->running_ = false;
    ++self->run_id_;
    for (SentinelLink* link : self->links_) {
      if (link != nullptr) link->close();
    }
    for (asio::steady_timer* pause : self->pauses_) pause->cancel();
  });
}

asio::awaitable<void> SentinelWatcher::run(std::uint64_t run_id, std::size_t sentinel_index) {
  auto self = shared_from_this();
  const SentinelSettings& sentinel = resolver_->sentinel();
  std::string subscribe;
  std::size_t channels = 2;
  if (sentinel.replicas) {
    encode_command(subscribe, "SUBSCRIBE", "+switch-master", "+promoted-slave", "+sdown", "-sdown",
                   "+slave");
    channels = 5;
  } else {
    encode_command(subscribe, "SUBSCRIBE", "+switch-master", "+promoted-slave");
  }
  asio::steady_timer pause(strand_);
  while (run_id == run_id_) {
    SentinelLink link(strand_, resolver_->node(sentinel_index), resolver_->tls());
    links_[sentinel_index] = &link;
    try {
      co_await link.open(subscribe, channels);
      while (run_id == run_id_) {
        const Reply message = co_await link.next();
        const auto& parts = message.elements();
        if (message.is_array() && parts.size() == 3 && parts[0].str() == "message") {
          on_message(parts[1].str(), parts[2].str(), sentinel_index);
        }
      }
    } catch (const std::exception&) {
      // Down, or it went away: tried again after a pause.
    }
    if (links_[sentinel_index] == &link) links_[sentinel_index] = nullptr;
    if (run_id != run_id_) break;
    pauses_.push_back(&pause);
    pause.expires_after(kPauseAfterFailure);
    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(pauses_, &pause);
  }
}

void SentinelWatcher::on_message(const std::string& channel, const std::string& payload,
                                 std::size_t sentinel_index) {
  const std::string& master = resolver_->sentinel().master_name;
  const std::vector<std::string> w = words(payload);
  if (channel == "+switch-master") {
    // <name> <old ip> <old port> <new ip> <new port>
    if (w.size() != 5 || w[0] != master) return;
    const std::string moved_to =
        describe(NodeAddress{w[3], static_cast<std::uint16_t>(std::stoi(w[4]))});
    const std::string why = "Sentinel: master '" + master + "' moved to " + moved_to;
    // Replica connections all move: one of their replicas may be the new master now.
    relocate(why, resolver_->sentinel().replicas ? std::string() : moved_to, false);
    return;
  }
  // slave <ip:port> <ip> <port> @ <master> <ip> <port>
  if (w.size() < 6 || w[0] != "slave" || w[4] != "@" || w[5] != master) return;
  const std::string node = describe(NodeAddress{w[2], static_cast<std::uint16_t>(std::stoi(w[3]))});
  if (channel == "+promoted-slave") {
    // The failover's leader saw the replica take over; +switch-master comes only once the
    // other replicas follow it (a second or more), and meanwhile the old master still takes
    // writes that the new one will never have. The leader already names the new master:
    // ask it first, and move now.
    resolver_->prefer(sentinel_index);
    if (resolver_->sentinel().replicas) {
      relocate("Sentinel: replica " + node + " was promoted", node, true);
    } else {
      relocate("Sentinel: master '" + master + "' moved to " + node, node, false);
    }
  } else if (channel == "+sdown") {
    relocate("Sentinel: replica " + node + " is down", node, true);
  } else if (channel == "-sdown" || channel == "+slave") {
    rebalance(NodeAddress{w[2], static_cast<std::uint16_t>(std::stoi(w[3]))});
  }
}

void SentinelWatcher::rebalance(const NodeAddress& returning) {
  std::vector<std::shared_ptr<Connection>> live;
  std::vector<std::string> nodes;
  for (const auto& weak : connections_) {
    if (auto connection = weak.lock()) {
      nodes.push_back(connection->node_seen_from_outside());
      live.push_back(std::move(connection));
    }
  }
  const std::string why = "Sentinel: replica " + describe(returning) + " is back; moving there";
  for (const std::size_t i : connections_to_move(nodes, describe(returning))) {
    live[i]->move_to(why, returning);
  }
}

void SentinelWatcher::relocate(const std::string& why, const std::string& node, bool only_there) {
  for (const auto& weak : connections_) {
    if (auto connection = weak.lock()) connection->relocate(why, node, only_there);
  }
}

}  // namespace asyncredis::detail
