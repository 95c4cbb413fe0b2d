// The pool behind a RedisClient: its multiplexed connections, the choice of the least loaded
// one for each request, and the exclusive connections handed out as leases.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/settings.hpp"
#include "net/connection.hpp"

namespace asyncredis::detail {

class ClientCore;
class SentinelResolver;
class SentinelWatcher;

// One leased connection; gives it back to its pool when destroyed.
class LeaseCore final : public RequestSink {
 public:
  LeaseCore(std::shared_ptr<Connection> connection, std::weak_ptr<ClientCore> owner);
  ~LeaseCore() override;
  // Refuses (errc::invalid_argument) commands that would break the connection for its next
  // holder: SUBSCRIBE, SELECT, ... (see command_policy.hpp).
  void submit(Request&& request, ReplyHandler&& handler) override;
  asio::any_io_executor executor() const override;

 private:
  std::shared_ptr<Connection> connection_;
  std::weak_ptr<ClientCore> owner_;
  Completer completer_;
};

class ClientCore final : public RequestSink {
 public:
  using LeaseReady =
      asio::any_completion_handler<void(std::exception_ptr, std::shared_ptr<LeaseCore>)>;

  // With settings.tls, builds the TLS context: throws Error(errc::invalid_setting) naming the
  // tls_options field and file that cannot be used (see TlsContext).
  ClientCore(asio::any_io_executor executor, RedisSettings settings, int db);

  // Sends on the least loaded connection that is up and owes no replies. Refuses
  // (errc::invalid_argument) commands that would break a shared connection: blocking ones,
  // WATCH, an unclosed MULTI, SUBSCRIBE, SELECT, ... (see command_policy.hpp).
  void submit(Request&& request, ReplyHandler&& handler) override;
  asio::any_io_executor executor() const override { return completer_.executor(); }

  void connect(VoidHandler handler);
  // Starts every connection in the background and takes requests at once: they wait on the
  // connections until these are up, or fail by their timeout. A cluster's node pools open so,
  // because a node is found while requests for it are already on their way.
  void open();
  void disconnect(VoidHandler handler);
  void acquire_lease(LeaseReady handler);
  // Called by ~LeaseCore.
  void release_lease(std::shared_ptr<Connection> connection);
  // Closes everything at once; pending operations fail with errc::shutting_down.
  void shutdown();

  // A connection with the client's settings, TLS context and queue limits, not part of the
  // pool: a lease's, or a subscriber's (`listener` gets its pushed messages).
  std::shared_ptr<Connection> make_connection(ConnectionRole role,
                                              std::weak_ptr<PushListener> listener = {});

  // The pooled connections (fixed at construction), and the tracking slot they share.
  const std::vector<std::shared_ptr<Connection>>& pooled() const noexcept { return connections_; }
  TrackingSlot& tracking_slot() const noexcept { return *tracking_; }

  const RedisSettings& settings() const noexcept { return settings_; }
  int database() const noexcept { return db_; }
  PoolStats stats() const noexcept;

 private:
  enum class State { idle, connecting, connected, disconnecting, closed };
  struct LeaseWaiter {
    MovableHandler<LeaseReady> handler;
    std::shared_ptr<asio::steady_timer> timer;
  };

  std::shared_ptr<ClientCore> self() {
    return std::static_pointer_cast<ClientCore>(shared_from_this());
  }
  std::weak_ptr<ClientCore> weak_self() { return self(); }
  Connection& pick() noexcept;
  void open_lease_connection(LeaseReady handler);
  void hand_over(std::shared_ptr<Connection> connection, LeaseReady handler);
  // Fails a request the pool cannot take (settings_.observer sees it too).
  void reject(const Request& request, ReplyHandler&& handler, errc code, const char* what);

  const RedisSettings settings_;
  const int db_;
  Completer completer_;  // the client's executor; refusals complete through it
  QueueLimits limits_;   // each connection's share of the pool's bounds
  // Built once from settings_.tls_options (null without TLS) and shared by every connection,
  // leases included: certificates are read at construction, not on each connect.
  std::shared_ptr<TlsContext> tls_;
  // Empty until a ClientTracking puts its hook in (asyncredis/tracking.hpp).
  const std::shared_ptr<TrackingSlot> tracking_ = std::make_shared<TrackingSlot>();
  // Over Sentinel (null otherwise): where connections go, and who tells them to move.
  std::shared_ptr<SentinelResolver> sentinel_;
  std::shared_ptr<SentinelWatcher> watcher_;
  std::vector<std::shared_ptr<Connection>> connections_;  // fixed at construction
  std::atomic<State> state_{State::idle};
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> seed_;

  mutable std::mutex lease_mutex_;
  std::vector<std::shared_ptr<Connection>> idle_leases_;
  std::size_t leases_out_ = 0;  // leased or being opened
  std::deque<std::shared_ptr<LeaseWaiter>> lease_waiters_;
};

}  // namespace asyncredis::detail
