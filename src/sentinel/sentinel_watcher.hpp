// Listens to a sentinel for the news that moves a client's connections: +promoted-slave and
// +switch-master (the master moved: every connection not already on the new master is
// dropped and reconnects through the sentinels, the leader of the failover asked first) and, for a
// replica client, +sdown of a replica (its connections move to another) and -sdown or +slave
// (a replica back in service or new: it takes its share of the connections). Listens to every
// sentinel at once: the one that led the failover says so first, the others only after its next
// hello (up to 2 s later). A sentinel that fails is tried again after a pause.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "net/connection.hpp"
#include "sentinel/sentinel_resolver.hpp"

namespace asyncredis::detail {

class SentinelLink;

class SentinelWatcher : public std::enable_shared_from_this<SentinelWatcher> {
 public:
  // `connections`: the pool's, told to move (held weakly).
  SentinelWatcher(asio::any_io_executor executor, std::shared_ptr<SentinelResolver> resolver,
                  std::vector<std::weak_ptr<Connection>> connections);

  // Starts listening (again after stop()); a no-op while it listens. Any thread.
  void start();
  // Stops listening and closes the sentinel connection. Any thread.
  void stop();

 private:
  // Listens to sentinel `sentinel_index` until stop().
  asio::awaitable<void> run(std::uint64_t run_id, std::size_t sentinel_index);
  // One message from the channel of sentinel `sentinel_index`.
  void on_message(const std::string& channel, const std::string& payload,
                  std::size_t sentinel_index);
  void relocate(const std::string& why, const std::string& node, bool only_there);
  // A replica is back in service (-sdown, +slave): it takes its share of the connections, each
  // moved without failing a request (Connection::move_to).
  void rebalance(const NodeAddress& returning);

  Strand strand_;
  std::shared_ptr<SentinelResolver> resolver_;
  std::vector<std::weak_ptr<Connection>> connections_;
  std::vector<SentinelLink*> links_;         // each sentinel's, while open (strand only)
  std::vector<asio::steady_timer*> pauses_;  // the runs pausing after a failure (strand only)
  bool running_ = false;
  std::uint64_t run_id_ = 0;
};

}  // namespace asyncredis::detail
