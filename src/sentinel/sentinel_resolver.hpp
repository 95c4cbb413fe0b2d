// Where a client over Sentinel connects: asks the sentinels in turn for the master's address
// (SENTINEL get-master-addr-by-name) or its healthy replicas (SENTINEL replicas). One per
// client, shared by its connections; any strand may ask.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "asyncredis/settings.hpp"
#include "net/node_address.hpp"
#include "net/transport.hpp"

namespace asyncredis::detail {

// What SENTINEL replicas says: the healthy replicas, and the others described for messages.
struct ReplicaList {
  std::vector<NodeAddress> healthy;  // not down in the sentinel's eyes
  std::string others;                // the replicas that are down, for messages
};

class SentinelResolver {
 public:
  // With settings.sentinel.tls, builds the sentinels' TLS context: throws
  // Error(errc::invalid_setting) naming the file that cannot be used.
  explicit SentinelResolver(const RedisSettings& settings);

  // The master's address, or (settings.sentinel.replicas) one healthy replica's (not down), picked
  // by `spread` among them. Asks the sentinel that answered last first, then the others in turn.
  // Throws Error(errc::invalid_setting) when the sentinels that answered do not know the master's
  // name, Error(errc::not_connected) naming every sentinel and why it failed when none answered, or
  // when no replica is healthy.
  asio::awaitable<NodeAddress> resolve(Strand strand, std::uint64_t spread);

  // The replicas as the first sentinel that answers lists them; throws as resolve().
  asio::awaitable<ReplicaList> replicas(Strand strand);

  // Asks sentinel `i` first from now on (the leader of a failover knows the new master first).
  void prefer(std::size_t i) noexcept { preferred_.store(i, std::memory_order_relaxed); }

  const SentinelSettings& sentinel() const noexcept { return settings_.sentinel; }
  // The settings to reach sentinel `i` (sentinel_node_settings()) and their TLS context.
  const RedisSettings& node(std::size_t i) const { return nodes_.at(i); }
  std::size_t size() const noexcept { return nodes_.size(); }
  const std::shared_ptr<TlsContext>& tls() const noexcept { return tls_; }

 private:
  // Asks `command` (one encoded command) of each sentinel in turn; `read` turns a reply into
  // the result, or returns false for "this sentinel does not know the master".
  template <class Result, class Read>
  asio::awaitable<Result> ask(Strand strand, const std::string& command, Read read);

  const RedisSettings settings_;
  std::vector<RedisSettings> nodes_;
  std::shared_ptr<TlsContext> tls_;
  std::atomic<std::size_t> preferred_{0};  // the sentinel that answered last
};

}  // namespace asyncredis::detail
