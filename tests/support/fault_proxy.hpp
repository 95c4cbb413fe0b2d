// FaultProxy: a TCP proxy between a client under test and a real server that misbehaves on
// command: delays bytes, splits them into tiny pieces, caps bandwidth, drops a connection after
// N bytes, resets connections, refuses new ones, or stops forwarding (blackhole), on every
// connection or on chosen ones. It runs on its own thread and io_context, so a test's client can
// run on any executor (or several threads); every member may be called from any thread, and
// every change applies at once to the connections already open and to the ones to come.
//
//   test::RedisServer server;
//   test::FaultProxy proxy(server.port());
//   RedisClient client(io.get_executor(), proxy.settings(server.settings()));
//   proxy.set_chunk_size(1);   // replies now arrive one byte at a time
//   proxy.reset_all();         // every connection gets an RST
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "asyncredis/settings.hpp"

namespace asyncredis::test {

class FaultProxy {
 public:
  // Which way the bytes a fault applies to travel.
  enum class Direction { to_server, to_client, both };

  // How new connections are refused.
  enum class Refuse {
    no,               // accepted and forwarded
    reset_on_accept,  // accepted, then reset at once (the client sees its connect succeed)
    not_listening,    // the listening socket is closed: connect() fails with "refused"
  };

  // Listens on 127.0.0.1:<free port> and forwards each connection to target_host:target_port.
  explicit FaultProxy(std::uint16_t target_port, std::string target_host = "127.0.0.1");
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;
  // Closes every connection and stops the thread.
  ~FaultProxy();

  std::uint16_t port() const noexcept { return port_; }
  // `base` (e.g. RedisServer::settings()) with host and port pointing at the proxy.
  RedisSettings settings(RedisSettings base) const;

  // ---- faults; 0 turns each off ----------------------------------------------------------

  // Each read is held this long before it is forwarded.
  void set_latency(std::chrono::milliseconds delay, Direction direction = Direction::both);
  // Only on one open connection (an id from connection_ids()), on top of the latency above:
  // how a test makes one connection slow while another is fast. False if it is not open.
  bool set_connection_latency(std::size_t id, std::chrono::milliseconds delay,
                              Direction direction = Direction::both);
  // Forwards in pieces of at most `bytes`, one write each (1: every byte on its own).
  void set_chunk_size(std::size_t bytes, Direction direction = Direction::both);
  // At most `bytes_per_second` per connection and direction.
  void set_bandwidth(std::size_t bytes_per_second, Direction direction = Direction::both);
  // Every connection is reset once it has forwarded `bytes` more in `direction`, counted from
  // this call (open connections) or from its accept (later ones); exactly `bytes` get through.
  // Stays armed, one budget per connection, until clear_drop() or clear().
  void drop_after(std::size_t bytes, Direction direction = Direction::to_client);
  void clear_drop();

  // Resets (RST to both the client and the server) every open connection, now.
  void reset_all();
  // Resets one connection (an id from connection_ids()); false if it is no longer open.
  bool reset(std::size_t id);
  // How new connections are treated from now on (open ones are not touched).
  void refuse(Refuse mode);

  // Stop forwarding (bytes are held, not lost: lifting the blackhole delivers them): on every
  // connection, open and new.
  void blackhole(bool on);
  // Only the next `count` connections accepted, until blackhole_connection(id, false).
  void blackhole_next(std::size_t count = 1);
  // One open connection; false if it is no longer open.
  bool blackhole_connection(std::size_t id, bool on);

  // Every fault off and new connections accepted again: a transparent proxy.
  void clear();

  // ---- observation -----------------------------------------------------------------------

  // Ids of the open connections, in accept order (ids count from 0 and are never reused).
  std::vector<std::size_t> connection_ids() const;
  std::size_t accepted() const noexcept { return accepted_.load(); }
  // Connections ended by the proxy: resets, drops, refusals.
  std::size_t resets() const noexcept { return resets_.load(); }
  // Bytes handed on, counted before each write: once a peer has received bytes, they are counted.
  std::uint64_t bytes_forwarded(Direction direction) const noexcept;
  // Bytes sent to the proxy and not forwarded yet (held by a blackhole or a latency, read or
  // still unread in the socket): how a test sees that a client has written requests that a
  // blackhole keeps from the server.
  std::size_t bytes_held(Direction direction) const;

 private:
  struct Faults {
    std::chrono::milliseconds latency{0};
    std::size_t chunk = 0;
    std::size_t bandwidth = 0;
    std::size_t drop_after = 0;
    bool drop = false;
    std::uint64_t drop_epoch = 0;  // bumps on every drop_after(): budgets start again
  };
  struct Config {
    Faults to_server;
    Faults to_client;
    bool blackhole_all = false;
    std::size_t blackhole_next = 0;
    Refuse refuse = Refuse::no;
  };
  class Session;
  friend class Session;

  template <class Change>
  void change(Direction direction, Change apply);
  // Runs `task` on the proxy's thread and waits for it.
  void on_proxy_thread(const std::function<void()>& task) const;
  void start_accepting();
  void open_acceptor();
  void accept_one();
  void wake_sessions();
  void forget(std::size_t id);
  Faults faults(Direction direction) const;
  bool blackholed_all() const;

  const std::string target_host_;
  const std::uint16_t target_port_;
  std::uint16_t port_ = 0;

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;

  mutable std::mutex mutex_;  // guards config_
  Config config_;

  // Only touched on the proxy's thread.
  std::map<std::size_t, std::shared_ptr<Session>> sessions_;
  std::size_t next_id_ = 0;
  std::uint64_t accept_generation_ = 0;  // bumps when the acceptor closes or reopens

  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> resets_{0};
  std::atomic<std::uint64_t> to_server_bytes_{0};
  std::atomic<std::uint64_t> to_client_bytes_{0};
};

}  // namespace asyncredis::test
