// SyncClient: the client for code that is not asynchronous (a CLI, a test, a legacy service).
//
//   asyncredis::SyncClient redis(asyncredis::RedisSettings::from_env());
//   redis.set("greeting", "hello");
//   std::optional<std::string> v = redis.get("greeting");
#pragma once

#include <memory>
#include <optional>

#include "asyncredis/client.hpp"
#include "asyncredis/commands.hpp"
#include "asyncredis/commands/blocking.hpp"
#include "asyncredis/settings.hpp"
#include "asyncredis/use_sync.hpp"

namespace asyncredis {

/// The command surface of RedisClient whose methods block and return their result:
/// `get(key)` returns std::optional<std::string>, failures throw asyncredis::Error.
using SyncCommands = BasicCommands<use_sync_t>;

namespace detail {
class SyncRuntime;  // the event loop and asynchronous client (src/sync/)
}  // namespace detail

class SyncClient;

/// One connection held exclusively, with blocking methods, including BLPOP, BRPOP and BLMOVE.
/// The connection goes back to the pool when the SyncLease is destroyed.
class SyncLease : public BlockingCommands<SyncCommands> {
 private:
  friend class SyncClient;
  SyncLease(Lease lease, detail::SyncRuntime& runtime);

  Lease lease_;
  std::shared_ptr<detail::RequestSink> sink_owner_;
};

/// A RedisClient that owns its io thread: every typed method of Commands, blocking, returning
/// its value and throwing asyncredis::Error (errc::timeout after the command timeout,
/// errc::server_error for an error reply, ...). Safe to call from many threads at once: their
/// commands share the pool's pipelined connections. Never call it from its own io thread
/// (inside a computation handed to its asynchronous client): errc::invalid_argument.
class SyncClient : public SyncCommands {
 public:
  /// Starts the io thread and connects; returns once the first connection is ready. Throws
  /// Error(errc::invalid_setting) for bad settings and RedisClient::connect()'s errors.
  explicit SyncClient(RedisSettings settings, std::optional<int> db = std::nullopt);
  /// Lets the commands in flight finish (at most settings.disconnect_timeout), closes the
  /// connections and joins the io thread.
  ~SyncClient();

  /// An exclusive connection (for blocking commands and WATCH transactions); waits up to
  /// connect_timeout for one. Throws RedisClient::lease()'s errors.
  SyncLease lease() const;
  /// An exclusive connection for `key`'s hash slot: on a cluster, to the master serving it
  /// (see RedisClient::lease_for); on one node, lease(). Throws RedisClient::lease_for()'s
  /// errors.
  SyncLease lease_for(std::string_view key) const;

  /// The asynchronous client underneath (same pool and io thread): for a Subscriber, a
  /// CacheService (see SyncCache) or any asynchronous operation.
  RedisClient& async_client() const noexcept;

  /// The pool's counters.
  PoolStats stats() const noexcept;

 private:
  explicit SyncClient(std::unique_ptr<detail::SyncRuntime> runtime);

  std::unique_ptr<detail::SyncRuntime> runtime_;
  std::shared_ptr<detail::RequestSink> sink_owner_;  // the blocking sink in front of the pool
};

}  // namespace asyncredis
