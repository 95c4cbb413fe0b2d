// RedisClient: a pool of multiplexed, automatically pipelined connections; and Lease, one
// connection held exclusively (WATCH transactions, blocking commands).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include "asyncredis/commands.hpp"
#include "asyncredis/commands/blocking.hpp"
#include "asyncredis/settings.hpp"

namespace asyncredis {

namespace detail {
class ClientCore;
class ClusterCore;
class LeaseCore;
}  // namespace detail

class RedisClient;

/// One connection of the client's, exclusively yours from RedisClient::lease() until the Lease is
/// destroyed or release()d. Its commands run in order on that connection: WATCH, then reads, then
/// transaction(); or the blocking list commands (BLPOP, BRPOP, BLMOVE) that would stall a shared
/// connection. A lease that ends inside MULTI or with keys WATCHed has its connection reset
/// (DISCARD, UNWATCH) before another caller gets it.
class Lease : public BlockingCommands<Commands> {
 public:
  Lease() = default;  ///< no connection: not valid()
  /// Takes over the other's connection; the other is left without one.
  Lease(Lease&&) noexcept;
  /// Gives this lease's connection back (as release()), then takes over the other's.
  Lease& operator=(Lease&&) noexcept;
  /// Gives the connection back to the pool (as release()).
  ~Lease();

  /// Whether the lease holds a connection; a command on a lease that is not valid() throws
  /// Error(errc::not_connected) at once.
  bool valid() const noexcept { return core_ != nullptr; }
  /// Gives the connection back to the pool now; one with requests still in flight is closed
  /// and replaced instead. Afterwards the lease is not valid().
  void release() noexcept;

 private:
  friend class RedisClient;
  explicit Lease(std::shared_ptr<detail::LeaseCore> core);

  std::shared_ptr<detail::LeaseCore> core_;
};

/// Counters of the pool, readable at any time from any thread (RedisClient::stats()).
struct PoolStats {
  std::size_t connections = 0;       ///< multiplexed connections configured
  std::size_t connected = 0;         ///< of those, currently up
  std::size_t pending_requests = 0;  ///< waiting or on the wire
  std::size_t reconnects = 0;        ///< connections re-established after a loss
  std::size_t leases = 0;            ///< exclusive connections currently leased
};

/// A pool of multiplexed, automatically pipelined connections to one Redis database, with every
/// command of Commands. Operations may be started from any thread.
///
/// With settings.cluster_nodes it is a Redis Cluster client: connect() learns the slot map and
/// the command table from the seed nodes; every node gets a pool of its own; each command goes
/// to the node that serves its keys' slot (hash tags respected), a multi-key command whose
/// keys span slots (MGET, DEL, UNLINK, EXISTS, TOUCH, MSET) is split by slot and its replies
/// merged in the caller's order (so MSET across slots is not atomic), a command the server
/// marks for every shard (FLUSHDB, DBSIZE, KEYS, PING, SCRIPT LOAD/FLUSH, ...) goes to every
/// master and the replies are merged as the server's tips say (all must succeed, summed, ...),
/// a pipeline is split per node and its replies come back in the original order. MOVED, ASK,
/// TRYAGAIN and CLUSTERDOWN are followed (at most settings.cluster.max_redirections hops, within
/// the request's timeout). A transaction or script whose keys span slots fails before sending
/// with errc::cross_slot naming the keys. On a cluster client a lease is for one slot:
/// lease_for(key).
class RedisClient : public Commands {
 public:
  /// Nothing connects until connect(). Settings are validated here (Error(errc::
  /// invalid_setting) naming the field). `db` is the database to SELECT; by default
  /// settings.cache_db (an explicit 0 stays 0); a cluster client accepts only 0.
  RedisClient(boost::asio::any_io_executor executor, RedisSettings settings,
              std::optional<int> db = std::nullopt);
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;
  /// Closes every connection; operations still pending complete with errc::shutting_down.
  ~RedisClient();

  /// Opens the pool's connections (and the handshake: AUTH, SELECT, CLIENT SETNAME). Completes
  /// once the first connection is ready; the others follow in the background. Fails with the
  /// first connection's error (errc::timeout after connect_timeout, errc::auth_failed,
  /// errc::tls_error naming why a certificate did not verify, errc::protocol_error for a server
  /// whose handshake replies are not Redis's, errc::not_connected for an I/O error) and leaves
  /// the client disconnected. Signature: void(std::exception_ptr). Already connected: succeeds
  /// at once; while connecting or disconnecting: errc::invalid_argument.
  template <class Token = boost::asio::deferred_t>
  auto connect(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, RedisClient* self) { self->start_connect(std::move(handler)); }, token,
        this);
  }

  /// Stops taking new operations (they fail with errc::shutting_down), lets every operation
  /// in flight complete (up to settings.disconnect_timeout), then closes the connections.
  /// Signature: void(std::exception_ptr). Not connected: succeeds at once; while connecting
  /// or already disconnecting: errc::invalid_argument. connect() may follow.
  template <class Token = boost::asio::deferred_t>
  auto disconnect(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, RedisClient* self) { self->start_disconnect(std::move(handler)); }, token,
        this);
  }

  /// An exclusive connection (opened on demand; at most settings.max_connections leases at
  /// once, further requests wait up to connect_timeout). Signature:
  /// void(std::exception_ptr, Lease). Fails with errc::not_connected before connect(),
  /// errc::timeout when no lease frees up in time, or a new connection's error as connect();
  /// on a cluster client with errc::invalid_argument (a lease is bound to one node: use
  /// lease_for(key)).
  template <class Token = boost::asio::deferred_t>
  auto lease(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Lease)>(
        [](auto handler, RedisClient* self) { self->start_lease(std::move(handler), nullptr); },
        token, this);
  }

  /// An exclusive connection for commands on `key` and other keys of its hash slot, such as
  /// WATCH ... MULTI ... EXEC. On a cluster client it goes to the master serving the slot when
  /// asked and follows no redirection: a command for another slot, or one sent after the slot
  /// moved, fails with Redis's MOVED as errc::server_error. On one node it is lease().
  /// Signature and errors as lease(); on a cluster also errc::not_connected when no master
  /// serves the slot.
  template <class Token = boost::asio::deferred_t>
  auto lease_for(std::string_view key, Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, Lease)>(
        [](auto handler, RedisClient* self, std::string key) {
          self->start_lease(std::move(handler), &key);
        },
        token, this, std::string(key));
  }

  /// The executor given to the constructor.
  boost::asio::any_io_executor get_executor() const noexcept;
  /// The settings given to the constructor.
  const RedisSettings& settings() const noexcept;
  /// The database the connections SELECT (the constructor's `db`, else settings().cache_db).
  int database() const noexcept;
  /// The pool's counters now.
  PoolStats stats() const noexcept;

 private:
  using VoidHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
  using LeaseHandler = boost::asio::any_completion_handler<void(std::exception_ptr, Lease)>;

  void start_connect(VoidHandler handler);
  void start_disconnect(VoidHandler handler);
  // `key`: the lease is for that key's slot (lease_for); null: any connection (lease).
  void start_lease(LeaseHandler handler, const std::string* key);

  // The pool a Subscriber opens its connection from: the client's, or on a cluster, one
  // master's (SUBSCRIBE and PUBLISH reach every node of a cluster). Throws
  // Error(errc::not_connected) for a cluster client that is not connected.
  detail::ClientCore& subscriber_pool() const;

  friend class Subscriber;      // opens a connection of the client's, in subscriber mode
  friend class ClientTracking;  // tracks the pool's connections
  std::shared_ptr<detail::ClientCore> core_;      // one node's pool (null on a cluster)
  std::shared_ptr<detail::ClusterCore> cluster_;  // with settings.cluster_nodes
};

}  // namespace asyncredis
