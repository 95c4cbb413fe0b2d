// RedisServer: a private redis-server process for one test, on a free port in a fresh
// temporary directory, killed with the test (even when the test process itself is killed).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "asyncredis/settings.hpp"

namespace asyncredis::test {

// A TCP port on 127.0.0.1 that nothing listens on. Picked outside the kernel's ephemeral
// range (ip_local_port_range): no outgoing connection can take it while a server is down for
// a restart, and a client reconnecting to it can never connect to itself (TCP self-connect).
std::uint16_t free_port();
// A free port whose cluster bus port (port + 10000) is free too, both below the ephemeral range.
std::uint16_t free_cluster_port();

struct RedisServerOptions {
  // requirepass of the default user (or its password in the ACL file, see acl_users).
  std::string password;
  // Lines of an ACL file, e.g. "user alice on >secret ~cache:* +get +set". When `password` is
  // set and no line defines "user default", a default user with that password is added.
  std::vector<std::string> acl_users;
  // Also listen on <dir>/redis.sock (permissions 700).
  bool unix_socket = false;
  // Lines of a config file written to <dir>/redis.conf and given first on the command line
  // (a sentinel needs one it can rewrite); empty: none.
  std::vector<std::string> config_lines;
  // Appended to the command line, e.g. {"--maxmemory", "10mb"}.
  std::vector<std::string> extra_args;
  // A Redis Cluster node: cluster-enabled, its nodes.conf in its directory (kept across a
  // restart, so that it rejoins), on a port whose cluster bus port (+10000) is free too.
  bool cluster = false;
};

// Starts redis-server (ASYNCREDIS_REDIS_SERVER, or that environment variable) in its
// constructor and returns once the server answers; throws std::runtime_error with the tail of
// the server's log when it cannot. A failed start is a test failure, never a skip.
// All members may be called from any thread; stop()/start()/suspend()/resume() are meant for
// one controlling thread at a time.
class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  // Kills the server (SIGKILL) and removes its directory (kept when the environment variable
  // ASYNCREDIS_KEEP_SERVER_DIRS is set, for post-mortems).
  ~RedisServer();

  std::string host() const { return "127.0.0.1"; }
  std::uint16_t port() const { return port_; }
  // Empty unless options.unix_socket.
  std::string unix_socket_path() const;
  // -1 while stopped.
  pid_t pid() const { return pid_.load(); }
  bool running() const { return pid() > 0; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path log_path() const { return dir_ / "redis.log"; }
  // The last `lines` lines of the server's stdout/stderr (kept across restarts).
  std::string log_tail(std::size_t lines = 30) const;

  // Settings that reach this server: host and port (the unix socket instead, when enabled),
  // the password, and timeouts short enough that a broken test fails fast (connect 2 s,
  // commands 5 s).
  asyncredis::RedisSettings settings() const;

  // SIGKILL and reap: the server vanishes as in a crash, connections are reset. Idempotent.
  void stop();
  // Starts the server again on the same port (retrying for up to 5 s while the port is
  // taken) and waits until it answers. No-op while running. Data is gone (no persistence).
  void start();
  // SIGSTOP / SIGCONT: the server keeps its connections but answers nothing, like a server
  // stalled by a long command or a paused VM.
  void suspend();
  void resume();
  // suspend(), sleep `duration` on the calling thread, resume().
  void pause(std::chrono::milliseconds duration);

  // Runs redis-cli (ASYNCREDIS_REDIS_CLI) against this server with `args`, authenticated
  // with options.password if set; returns stdout without surrounding whitespace. Throws
  // std::runtime_error (with the output) on a non-zero exit, which includes an error reply
  // (redis-cli -e), or after 30 s.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  enum class Launch { ready, port_taken };
  Launch launch();
  std::vector<std::string> command_line() const;
  void remove_dir() noexcept;

  RedisServerOptions options_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::atomic<pid_t> pid_{-1};
};

}  // namespace asyncredis::test
