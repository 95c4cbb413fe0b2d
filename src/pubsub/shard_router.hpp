// ShardRouter: where a cluster Subscriber's shard channels are subscribed.
//
// SSUBSCRIBE is served only by the master of the channel's slot, so each channel goes to that
// master, on one connection per node (a "shard core": a SubscriberCore of the node's pool whose
// messages go to the Subscriber's own core), and follows its slot when it moves: the node
// unsubscribes the channel by itself (the slot migrated), refuses it after a reconnect (MOVED),
// or is lost while the slot map names another master for the slot (a failover). Messages
// published while a channel moves are lost; receive() says so with a resubscribed event.
//
// Everything happens on one strand: what the Subscriber and the shard cores report is posted
// there, so the maps need no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "asyncredis/subscriber.hpp"
#include "net/completer.hpp"
#include "pubsub/subscriber_core.hpp"

namespace asyncredis::detail {

class ClientCore;
class ClusterCore;

class ShardRouter final : public std::enable_shared_from_this<ShardRouter> {
 public:
  using VoidHandler = SubscriberCore::VoidHandler;

  // `owner`: the Subscriber's core, which receives the shard cores' messages.
  ShardRouter(std::shared_ptr<ClusterCore> cluster, SubscriberOptions options,
              std::weak_ptr<SubscriberCore> owner);

  // SSUBSCRIBE (add) or SUNSUBSCRIBE `names`: `handler` once each node confirmed its part, or
  // with the first error (a name that failed to subscribe is not kept). Any thread.
  void change(bool add, std::vector<std::string> names, VoidHandler handler);
  // Closes every shard core and stops following slots. Any thread.
  void close();
  // Shard channels subscribed or being subscribed now. Any thread.
  std::size_t size() const noexcept { return size_.load(std::memory_order_relaxed); }

 private:
  // One node's shard core and the channels on it.
  struct Node {
    std::string host;  // as the map names it: a MOVED without a host means this one
    std::shared_ptr<SubscriberCore> core;
    std::set<std::string> channels;
    bool lost = false;  // its connection is down: its channels may have to move
  };
  using Done = std::function<void(std::exception_ptr)>;

  // Subscribes `names` on their slots' masters, following MOVED up to max_redirections.
  void subscribe(std::vector<std::string> names, std::size_t redirects, Done done);
  void unsubscribe(const std::vector<std::string>& names, Done done);
  // A group of `names` on the node `key` answered.
  void placed(const std::string& key, std::vector<std::string> names, std::size_t redirects,
              std::exception_ptr error, Done done);
  Node& node_for(const std::string& key, ClientCore& pool);
  void forget(const std::string& key, const std::vector<std::string>& names);
  // Channels that left their node: subscribed again where their slot is now.
  void move(std::vector<std::string> names, std::chrono::milliseconds pause);
  void dropped(const std::string& key, std::vector<std::string> names);
  void link_changed(const std::string& key, bool up);
  // While a node is lost: moves the channels whose slot the map now gives to another master.
  void check_lost(const std::string& key);
  void update_size() { size_.store(wanted_.size(), std::memory_order_relaxed); }

  std::shared_ptr<ClusterCore> cluster_;
  const SubscriberOptions options_;
  const std::weak_ptr<SubscriberCore> owner_;
  Completer completer_;
  asio::strand<asio::any_io_executor> strand_;
  bool closed_ = false;
  std::set<std::string> wanted_;              // the user's shard channels
  std::map<std::string, std::string> where_;  // channel -> node ("host:port")
  std::map<std::string, Node> nodes_;
  std::map<std::string, std::unique_ptr<asio::steady_timer>> lost_checks_;
  std::atomic<std::size_t> size_{0};
};

}  // namespace asyncredis::detail
