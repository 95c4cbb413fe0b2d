// The redis-server launcher every integration test relies on: if it is wrong, every other
// integration test result is suspect, so it gets its own checks.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/redis_server.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {
namespace {

using namespace std::chrono_literals;

// When this binary is started with ASYNCREDIS_LAUNCHER_HELPER=<file>, it starts a server,
// writes the server's pid to <file> and waits to be killed; the parent test then checks that
// the server died with it. Done before main() so that GoogleTest never sees the helper.
[[maybe_unused]] const bool launcher_helper = [] {
  const char* pid_file = std::getenv("ASYNCREDIS_LAUNCHER_HELPER");
  if (pid_file == nullptr) return false;
  RedisServer server;
  {
    std::ofstream out(std::string(pid_file) + ".tmp");
    out << server.pid() << '\n' << server.dir().native() << '\n';
  }
  std::filesystem::rename(std::string(pid_file) + ".tmp", pid_file);
  for (;;) ::pause();
}();

// Runs a shell command, returns its stdout and stderr.
std::string run(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("popen failed: " + command);
  char chunk[512];
  while (std::fgets(chunk, sizeof chunk, pipe) != nullptr) output += chunk;
  ::pclose(pipe);
  return output;
}

// True while `pid` exists and is not a zombie (an orphaned server may stay a zombie when
// the container's init does not reap).
bool alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  const auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] != 'Z';
}

// Sends PING on a raw connection; the reply line, or nullopt if none came within `wait`.
std::optional<std::string> raw_ping(std::uint16_t port, std::chrono::milliseconds wait) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{0, static_cast<suseconds_t>(wait.count() * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::optional<std::string> reply;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char buffer[64];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) reply.emplace(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return reply;
}

TEST(RedisServer, StartsOnAFreePortAndAnswers) {
  RedisServer server;
  EXPECT_GT(server.pid(), 0);
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.port(), 0);
  EXPECT_EQ(server.host(), "127.0.0.1");
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_EQ(server.cli({"SET", "greeting", "hello world"}), "OK");
  EXPECT_EQ(server.cli({"GET", "greeting"}), "hello world");
  // No persistence: a test never leaves a dump behind or reads an old one.
  EXPECT_EQ(server.cli({"CONFIG", "GET", "save"}), "save");
  EXPECT_EQ(server.cli({"CONFIG", "GET", "appendonly"}), "appendonly\nno");

  const RedisSettings settings = server.settings();
  EXPECT_EQ(settings.host, "127.0.0.1");
  EXPECT_EQ(settings.port, server.port());
  EXPECT_FALSE(settings.password.has_value());
  EXPECT_TRUE(settings.unix_socket.empty());
  EXPECT_EQ(settings.connect_timeout, 2s);
  EXPECT_EQ(settings.command_timeout, 5s);
  EXPECT_NO_THROW(settings.validate());
}

TEST(RedisServer, StopThenStartAgainOnTheSamePort) {
  RedisServer server;
  const auto port = server.port();
  const auto first_pid = server.pid();
  server.cli({"SET", "k", "v"});

  server.stop();
  EXPECT_FALSE(server.running());
  EXPECT_EQ(server.pid(), -1);
  EXPECT_FALSE(alive(first_pid));
  EXPECT_THROW(server.cli({"PING"}), std::runtime_error);
  server.stop();  // idempotent

  server.start();
  EXPECT_TRUE(server.running());
  EXPECT_NE(server.pid(), first_pid);
  EXPECT_EQ(server.port(), port);
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_EQ(server.cli({"EXISTS", "k"}), "0") << "a restarted server starts empty";

  const auto pid = server.pid();
  server.start();  // already running: nothing happens
  EXPECT_EQ(server.pid(), pid);
}

TEST(RedisServer, RestartFromAShortLivedThreadSurvivesTheThread) {
  // PR_SET_PDEATHSIG follows the forking thread; the launcher must not tie the server to it.
  RedisServer server;
  pid_t thread_id = 0;
  std::thread([&] {
    thread_id = ::gettid();
    server.stop();
    server.start();
  }).join();
  // join() returns before the kernel has finished the thread's exit, and the parent-death
  // signal, if the server were tied to the thread, is sent in that last step: wait until the
  // thread is gone from /proc, after which the signal would have been sent.
  const auto task = "/proc/self/task/" + std::to_string(thread_id);
  ASSERT_TRUE(wait_until([&] { return !std::filesystem::exists(task); }));
  EXPECT_TRUE(alive(server.pid()));
  EXPECT_EQ(server.cli({"PING"}), "PONG");
}

TEST(RedisServer, PasswordServerRejectsClientsWithoutIt) {
  RedisServer server({.password = "s3cret pass"});
  EXPECT_EQ(server.cli({"PING"}), "PONG") << "cli() authenticates";
  const std::string anonymous =
      run(std::string(ASYNCREDIS_REDIS_CLI) + " -p " + std::to_string(server.port()) + " PING");
  EXPECT_NE(anonymous.find("NOAUTH"), std::string::npos) << anonymous;
  EXPECT_EQ(server.settings().password, std::optional<std::string>("s3cret pass"));
}

TEST(RedisServer, AclUsersAndPasswordTogether) {
  RedisServer server(
      {.password = "admin", .acl_users = {"user alice on >secret ~cache:* +get +set"}});
  EXPECT_EQ(server.cli({"PING"}), "PONG") << "the default user keeps the password";
  EXPECT_EQ(server.cli({"--user", "alice", "--pass", "secret", "SET", "cache:a", "1"}), "OK");
  EXPECT_THROW(server.cli({"--user", "alice", "--pass", "secret", "SET", "other", "1"}),
               std::runtime_error)
      << "alice may only touch cache:*";
  const std::string anonymous =
      run(std::string(ASYNCREDIS_REDIS_CLI) + " -p " + std::to_string(server.port()) + " PING");
  EXPECT_NE(anonymous.find("NOAUTH"), std::string::npos) << anonymous;
}

TEST(RedisServer, AclFileWithItsOwnDefaultUser) {
  // The shape the connection tests use: the file defines the default user itself.
  RedisServer server(
      {.acl_users = {"user default on nopass ~* &* +@all", "user bob on >pw ~* +@read"}});
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  EXPECT_EQ(server.cli({"ACL", "WHOAMI"}), "default");
  EXPECT_EQ(server.cli({"--user", "bob", "--pass", "pw", "EXISTS", "k"}), "0");
  EXPECT_THROW(server.cli({"--user", "bob", "--pass", "pw", "SET", "k", "v"}), std::runtime_error)
      << "bob may only read";
}

TEST(RedisServer, DefaultUserWithoutInfoIsKnownByItsLog) {
  // The launcher cannot ask this server for its pid: it knows it for its own once its log
  // says it is ready, which it says only after binding the port.
  RedisServer server({.acl_users = {"user default on nopass ~* &* +@all -info"}});
  EXPECT_THROW(server.cli({"INFO", "server"}), std::runtime_error) << "the case under test";
  EXPECT_TRUE(alive(server.pid()));
  EXPECT_EQ(server.cli({"PING"}), "PONG");
  server.stop();
  server.start();  // the same way again, on the same port
  EXPECT_TRUE(alive(server.pid()));
  EXPECT_EQ(server.cli({"PING"}), "PONG");
}

TEST(RedisServer, UnixSocket) {
  RedisServer server({.unix_socket = true});
  const std::string path = server.unix_socket_path();
  ASSERT_FALSE(path.empty());
  EXPECT_TRUE(std::filesystem::is_socket(path));
  EXPECT_LT(path.size(), 108u) << "sockaddr_un limit";
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all, std::filesystem::perms::owner_all);
  EXPECT_EQ(server.settings().unix_socket, path);
  EXPECT_EQ(server.cli({"-s", path, "PING"}), "PONG");
  EXPECT_EQ(server.cli({"PING"}), "PONG") << "TCP stays available";

  RedisServer tcp_only;
  EXPECT_TRUE(tcp_only.unix_socket_path().empty());
}

TEST(RedisServer, TwoServersAreIndependent) {
  RedisServer a, b;
  EXPECT_NE(a.port(), b.port());
  EXPECT_NE(a.dir(), b.dir());
  a.cli({"SET", "who", "a"});
  b.cli({"SET", "who", "b"});
  EXPECT_EQ(a.cli({"GET", "who"}), "a");
  EXPECT_EQ(b.cli({"GET", "who"}), "b");
}

TEST(RedisServer, FreePortIsBindableAndOutsideTheEphemeralRange) {
  std::ifstream range_file("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0, high = 0;
  range_file >> low >> high;
  for (int i = 0; i < 20; ++i) {
    const int port = free_port();
    EXPECT_GT(port, 0);
    if (low > 0) {
      EXPECT_TRUE(port < low || port > high) << port;
    }
  }
}

TEST(RedisServer, SuspendStallsAndResumeAnswersAgain) {
  RedisServer server;
  ASSERT_EQ(raw_ping(server.port(), 2000ms), "+PONG\r\n");
  server.suspend();
  EXPECT_EQ(raw_ping(server.port(), 300ms), std::nullopt) << "a stopped server answers nothing";
  server.resume();
  EXPECT_EQ(raw_ping(server.port(), 2000ms), "+PONG\r\n");

  const auto started = std::chrono::steady_clock::now();
  server.pause(200ms);
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_EQ(server.cli({"PING"}), "PONG");
}

TEST(RedisServer, ExtraArgumentsReachTheServer) {
  RedisServer server({.extra_args = {"--maxmemory", "12mb", "--databases", "20"}});
  EXPECT_EQ(server.cli({"CONFIG", "GET", "maxmemory"}), "maxmemory\n12582912");
  EXPECT_EQ(server.cli({"CONFIG", "GET", "databases"}), "databases\n20");
}

TEST(RedisServer, AServerThatCannotStartThrowsWithItsLog) {
  try {
    RedisServer server({.extra_args = {"--no-such-directive", "1"}});
    FAIL() << "a broken configuration must not start";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no-such-directive"), std::string::npos) << message;
  }
}

TEST(RedisServer, CliErrorsThrow) {
  RedisServer server;
  server.cli({"SET", "s", "text"});
  EXPECT_THROW(server.cli({"INCR", "s"}), std::runtime_error);
  EXPECT_THROW(server.cli({"NOSUCHCOMMAND"}), std::runtime_error);
}

TEST(RedisServer, DestructorKillsTheServerAndRemovesItsDirectory) {
  pid_t pid;
  std::filesystem::path dir;
  {
    RedisServer server;
    pid = server.pid();
    dir = server.dir();
    EXPECT_TRUE(std::filesystem::exists(dir / "redis.log"));
  }
  EXPECT_FALSE(alive(pid));
  EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST(RedisServer, ServerDiesWithTheTestProcess) {
  const auto pid_file = std::filesystem::temp_directory_path() /
                        ("asyncredis-helper-" + std::to_string(::getpid()) + ".pid");
  std::filesystem::remove(pid_file);
  // Everything the child needs is prepared before fork(): after it, only exec.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("ASYNCREDIS_LAUNCHER_HELPER=" + pid_file.native());
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    ::execle("/proc/self/exe", "redis_server_test_helper", static_cast<char*>(nullptr),
             envp.data());
    ::_exit(127);
  }
  pid_t server_pid = -1;
  std::string server_dir;
  const bool started = wait_until([&] {
    std::ifstream in(pid_file);  // written whole (renamed into place)
    return static_cast<bool>(in >> server_pid >> server_dir);
  });
  ASSERT_TRUE(started && server_pid > 0) << "the helper did not start a server";
  EXPECT_TRUE(alive(server_pid));
  ::kill(helper, SIGKILL);
  ::waitpid(helper, nullptr, 0);
  const bool died = wait_until([&] { return !alive(server_pid); });
  EXPECT_TRUE(died) << "redis-server " << server_pid << " outlived the killed test process";
  if (!died) ::kill(server_pid, SIGKILL);
  std::filesystem::remove(pid_file);
  std::filesystem::remove_all(server_dir);  // the killed helper could not clean up
}

}  // namespace
}  // namespace asyncredis::test
