// FakeServer: a scripted "Redis" that answers whatever the test says: garbage, absurd
// lengths, deep nesting, endless replies, replies nobody asked for. It speaks just enough
// RESP to read the client's commands (arrays of bulk strings), and answers each one with the
// script's bytes, or honestly (PING, ECHO, +OK) where the script has nothing to say, so the
// client's handshake passes and the test decides where the lies begin.
//
//   test::FakeServer fake([](const test::FakeServer::Command& c, std::size_t) {
//     return c[0] == "GET" ? std::optional(test::FakeReply{"$4294967296\r\n"}) : std::nullopt;
//   });
//   RedisClient client(io.get_executor(), fake.settings());
//
// It runs on its own thread and io_context; the script runs there too, so what it shares with
// the test must be thread-safe. Loopback only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "asyncredis/settings.hpp"

namespace asyncredis::test {

// The answer to one command.
struct FakeReply {
  static constexpr std::uint64_t endless = std::numeric_limits<std::uint64_t>::max();

  std::string bytes;  // written at once
  // Then about this many bytes of `filler` repeated (endless: until the client goes away), in
  // writes of about `piece` bytes (whole repetitions), `interval` apart.
  std::uint64_t trickle = 0;
  std::string filler = "x";
  std::size_t piece = 64 * 1024;
  std::chrono::milliseconds interval{0};
  bool close = false;  // then close the connection
};

class FakeServer {
 public:
  using Command = std::vector<std::string>;  // name first, as sent
  // The answer to `command` on connection `connection` (0 for the first accepted);
  // std::nullopt: the honest default.
  using Script =
      std::function<std::optional<FakeReply>(const Command& command, std::size_t connection)>;

  explicit FakeServer(Script script = {});
  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;
  ~FakeServer();

  std::uint16_t port() const noexcept { return port_; }
  // Settings that reach this server, with short timeouts (connect 1 s, commands 2 s), fast
  // reconnects and no health check (a test that wants one turns it on).
  RedisSettings settings() const;

  // Writes `bytes` to every open connection now: a reply nobody asked for. Meant for idle
  // connections (one waiting for its next command).
  void broadcast(std::string bytes);

  std::size_t accepted() const noexcept { return accepted_.load(); }
  std::size_t commands() const noexcept { return commands_.load(); }
  std::uint64_t bytes_sent() const noexcept { return bytes_sent_.load(); }
  std::size_t open_connections() const noexcept { return open_.load(); }

  // ---- canned lies -----------------------------------------------------------------------

  // Bytes that are no RESP at all.
  static std::string garbage();
  // `depth` arrays of one element, each inside the previous, around the integer 1.
  static std::string nested_arrays(int depth);
  // The header of a bulk string announcing `length` bytes ("$<length>\r\n").
  static std::string bulk_header(std::uint64_t length);

 private:
  class Session;

  void accept_one();

  Script script_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;

  // Only touched on the server's thread.
  std::map<std::size_t, std::shared_ptr<Session>> sessions_;
  std::size_t next_id_ = 0;

  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> commands_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  std::atomic<std::size_t> open_{0};
};

}  // namespace asyncredis::test
