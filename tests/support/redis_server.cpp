#include "support/redis_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#ifndef ASYNCREDIS_REDIS_SERVER
#define ASYNCREDIS_REDIS_SERVER "redis-server"
#endif
#ifndef ASYNCREDIS_REDIS_CLI
#define ASYNCREDIS_REDIS_CLI "redis-cli"
#endif

namespace asyncredis::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Closes a file descriptor at scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// Resolves a program name through PATH here, in the parent: the forked child of a
// multithreaded process should only make async-signal-safe calls, and a clear "not found"
// message beats an exit status of 127.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = env_or("PATH", "/usr/local/bin:/usr/bin:/bin");
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  throw std::runtime_error("'" + name + "' was not found in PATH (" + path +
                           "); install redis-server and redis-tools (scripts/setup.sh)");
}

// argv for execv, pointing into `args` (which must outlive it).
std::vector<char*> make_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return argv;
}

// In the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void exec_child(pid_t parent, const std::vector<char*>& argv, int in_fd, int out_fd,
                             int err_fd) {
  // Dies with the parent: a crashed or killed test leaves no server behind.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(126);
  // Sockets and files of the test (other servers' listeners, client connections) must not
  // stay open in the server: they would keep ports busy and connections alive.
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3, max = static_cast<int>(::sysconf(_SC_OPEN_MAX)); fd < max; ++fd) ::close(fd);
  }
  ::execv(argv[0], argv.data());
  static const char message[] = "asyncredis test support: exec failed\n";
  [[maybe_unused]] auto ignored = ::write(2, message, sizeof message - 1);
  ::_exit(127);
}

// PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the process. A test that
// restarts a server from a short-lived std::thread would see it killed at once; so servers
// are forked by one thread that lives as long as the process.
class Spawner {
 public:
  static Spawner& instance() {
    static Spawner* spawner = new Spawner();  // never destroyed: its thread outlives main()
    return *spawner;
  }

  // Starts argv[0] with stdin from /dev/null and stdout+stderr into out_fd. Returns its pid.
  pid_t spawn(std::vector<std::string> args, int out_fd) {
    Job job;
    job.argv = make_argv(args);
    job.out_fd = out_fd;
    std::unique_lock lock(mutex_);
    jobs_.push_back(&job);
    wake_.notify_all();
    done_.wait(lock, [&] { return job.done; });
    if (job.pid < 0) {
      errno = job.error;
      throw_errno("fork");
    }
    return job.pid;
  }

 private:
  struct Job {
    std::vector<char*> argv;
    int out_fd = -1;
    pid_t pid = -1;
    int error = 0;
    bool done = false;
  };

  Spawner() {
    null_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd_ < 0) throw_errno("open /dev/null");
    std::thread([this] { run(); }).detach();
  }

  void run() {
    for (;;) {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return !jobs_.empty(); });
      Job* job = jobs_.front();
      jobs_.pop_front();
      const pid_t parent = ::getpid();
      const pid_t pid = ::fork();
      if (pid == 0) exec_child(parent, job->argv, null_fd_, job->out_fd, job->out_fd);
      job->pid = pid;
      job->error = pid < 0 ? errno : 0;
      job->done = true;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::deque<Job*> jobs_;
  int null_fd_ = -1;
};

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

// Reaps `pid` if it has exited; returns its wait status then.
std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) return status;
  return std::nullopt;
}

// Waits for `pid` to end; returns its wait status.
int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with wait status " + std::to_string(status);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string trim(std::string text) {
  const auto* space = " \t\r\n";
  const auto last = text.find_last_not_of(space);
  if (last == std::string::npos) return {};
  text.erase(last + 1);
  text.erase(0, text.find_first_not_of(space));
  return text;
}

std::string resp_command(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& arg : args) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// Reads one RESP2 reply of the kinds the probe can get (+, -, :, $). Empty on timeout/EOF.
std::optional<std::string> read_reply(int fd, std::string& buffer) {
  auto fill = [&] {
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t eol;
  while ((eol = buffer.find("\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  std::string line = buffer.substr(0, eol);
  if (line.empty() || line[0] != '$') {
    buffer.erase(0, eol + 2);
    return line;
  }
  const long length = std::strtol(line.c_str() + 1, nullptr, 10);
  if (length < 0) {
    buffer.erase(0, eol + 2);
    return std::string("$-1");
  }
  const std::size_t total = eol + 2 + static_cast<std::size_t>(length) + 2;
  while (buffer.size() < total) {
    if (!fill()) return std::nullopt;
  }
  std::string body = buffer.substr(eol + 2, static_cast<std::size_t>(length));
  buffer.erase(0, total);
  return "$" + body;
}

enum class Probe {
  no_answer,     // nothing listens, or it is still loading
  ours,          // INFO reports our pid
  someone_else,  // INFO reports another pid: our server could not bind the port
  answering,     // a server answers but refuses INFO (ACL rules): cannot check its pid
};

// Asks the server on `port` for its process id: readiness and "is it ours" in one round trip.
Probe probe(std::uint16_t port, const std::string& password, pid_t expected) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno("socket");
  timeval timeout{1, 0};  // a server that accepted but hangs must not hang the test
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Probe::no_answer;
  }
  std::string request;
  if (!password.empty()) request += resp_command({"AUTH", password});
  request += resp_command({"INFO", "server"});
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return Probe::no_answer;
  }
  std::string buffer;
  if (!password.empty()) {
    auto auth = read_reply(fd.get(), buffer);
    if (!auth) return Probe::no_answer;
    if (auth->rfind("-LOADING", 0) == 0) return Probe::no_answer;
  }
  auto info = read_reply(fd.get(), buffer);
  if (!info) return Probe::no_answer;
  if (info->rfind("-LOADING", 0) == 0) return Probe::no_answer;
  if (info->empty() || (*info)[0] != '$') return Probe::answering;
  const auto at = info->find("process_id:");
  if (at == std::string::npos) return Probe::answering;
  const long pid = std::strtol(info->c_str() + at + 11, nullptr, 10);
  return pid == expected ? Probe::ours : Probe::someone_else;
}

// The kernel's ephemeral port range, from which connect() picks local ports.
std::pair<int, int> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  if (!(in >> low >> high)) return {32768, 60999};
  return {low, high};
}

bool can_bind(std::uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno("socket");
  sockaddr_in addr = loopback(port);
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

bool log_says_port_taken(const std::string& log) {
  return log.find("Address already in use") != std::string::npos;
}

// Printed once the server listens on every port it was given, before it serves anyone.
bool log_says_ready(const std::string& log) {
  return log.find("Ready to accept connections") != std::string::npos;
}

}  // namespace

std::uint16_t free_port() {
  thread_local std::mt19937 random(std::random_device{}() ^
                                   static_cast<unsigned>(::getpid()) * 2654435761u);
  const auto [low, high] = ephemeral_range();
  // Prefer the ports below the ephemeral range (above the well-known services), else above.
  int first = 10000, last = low - 1;
  if (last - first < 1000) {
    first = high + 1;
    last = 65535;
  }
  if (last - first >= 100) {
    std::uniform_int_distribution<int> pick(first, last);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(pick(random));
      if (can_bind(port)) return port;
    }
  }
  // Unusual port range configuration: let the kernel choose.
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw_errno("socket");
  sockaddr_in addr = loopback(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw_errno("bind");
  socklen_t length = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
    throw_errno("getsockname");
  }
  return ntohs(addr.sin_port);
}

std::uint16_t free_cluster_port() {
  thread_local std::mt19937 random(std::random_device{}() ^
                                   static_cast<unsigned>(::getpid()) * 2654435761u);
  constexpr int kBusOffset = 10000;
  const int below = std::min(ephemeral_range().first, 65536);
  const int first = 10000, last = below - 1 - kBusOffset;
  if (last - first < 100) {
    throw std::runtime_error(
        "no room for cluster ports (port and port + 10000) below the "
        "ephemeral range starting at " +
        std::to_string(below));
  }
  std::uniform_int_distribution<int> pick(first, last);
  for (int attempt = 0; attempt < 500; ++attempt) {
    const auto port = static_cast<std::uint16_t>(pick(random));
    if (can_bind(port) && can_bind(static_cast<std::uint16_t>(port + kBusOffset))) return port;
  }
  throw std::runtime_error("no free port with a free cluster bus port found");
}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  // Unix socket paths are limited to 107 bytes: keep the directory short even when TMPDIR is
  // deep inside a CI workspace.
  std::filesystem::path base = std::filesystem::temp_directory_path();
  if (base.native().size() > 60) base = "/tmp";
  std::string pattern = (base / "asyncredis-XXXXXX").native();
  if (::mkdtemp(pattern.data()) == nullptr) throw_errno("mkdtemp " + pattern);
  dir_ = pattern;

  try {
    if (!options_.acl_users.empty()) {
      std::ofstream acl(dir_ / "users.acl");
      bool has_default = false;
      for (const auto& line : options_.acl_users) {
        if (line.rfind("user default ", 0) == 0) has_default = true;
        acl << line << '\n';
      }
      // Loading an ACL file resets the default user, dropping requirepass: carry the password
      // over in the file itself.
      if (!has_default && !options_.password.empty()) {
        acl << "user default on >" << options_.password << " ~* &* +@all\n";
      }
      if (!acl) throw std::runtime_error("cannot write " + (dir_ / "users.acl").native());
    }
    if (!options_.config_lines.empty()) {
      std::ofstream config(dir_ / "redis.conf");
      for (const auto& line : options_.config_lines) config << line << '\n';
      if (!config) throw std::runtime_error("cannot write " + (dir_ / "redis.conf").native());
    }
    // The port can be taken between free_port() and the server's bind (by another test
    // process): pick another one a few times.
    for (int attempt = 0;; ++attempt) {
      port_ = options_.cluster ? free_cluster_port() : free_port();
      if (launch() == Launch::ready) break;
      if (attempt == 9) {
        throw std::runtime_error("redis-server found every chosen port taken; log:\n" + log_tail());
      }
    }
  } catch (...) {
    remove_dir();
    throw;
  }
}

RedisServer::~RedisServer() {
  stop();
  if (std::getenv("ASYNCREDIS_KEEP_SERVER_DIRS") != nullptr) return;
  remove_dir();
}

void RedisServer::remove_dir() noexcept {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::unix_socket_path() const {
  return options_.unix_socket ? (dir_ / "redis.sock").native() : std::string();
}

std::string RedisServer::log_tail(std::size_t lines) const {
  const std::string log = read_file(log_path());
  std::size_t start = log.size();
  // Skip the final newline, then walk back `lines` line breaks.
  if (start > 0 && log[start - 1] == '\n') --start;
  for (std::size_t found = 0; start > 0; --start) {
    if (log[start - 1] == '\n' && ++found == lines) break;
  }
  return log.substr(start);
}

RedisSettings RedisServer::settings() const {
  RedisSettings settings;
  settings.host = host();
  settings.port = port_;
  if (!options_.password.empty()) settings.password = options_.password;
  if (options_.unix_socket) settings.unix_socket = unix_socket_path();
  settings.connect_timeout = 2s;
  settings.command_timeout = 5s;
  return settings;
}

std::vector<std::string> RedisServer::command_line() const {
  std::vector<std::string> args = {
      resolve_program(env_or("ASYNCREDIS_REDIS_SERVER", ASYNCREDIS_REDIS_SERVER)),
  };
  if (!options_.config_lines.empty()) args.push_back((dir_ / "redis.conf").native());
  args.insert(args.end(),
              {
                  "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                  "--appendonly", "no", "--dir", dir_.native(), "--daemonize", "no", "--logfile",
                  "",  // stdout, which goes to redis.log
              });
  if (options_.unix_socket) {
    args.insert(args.end(), {"--unixsocket", unix_socket_path(), "--unixsocketperm", "700"});
  }
  if (!options_.acl_users.empty()) {
    args.insert(args.end(), {"--aclfile", (dir_ / "users.acl").native()});
  } else if (!options_.password.empty()) {
    args.insert(args.end(), {"--requirepass", options_.password});
  }
  if (options_.cluster) {
    args.insert(args.end(), {"--cluster-enabled", "yes", "--cluster-config-file",
                             (dir_ / "nodes.conf").native()});
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

RedisServer::Launch RedisServer::launch() {
  std::vector<std::string> args = command_line();
  Fd log(::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) throw_errno("open " + log_path().native());
  const std::size_t log_start = read_file(log_path()).size();

  const pid_t pid = Spawner::instance().spawn(args, log.get());
  log.reset();

  // The server exited: a lost race for the port is retried, anything else is fatal.
  const auto exited = [&](int status) {
    if (log_says_port_taken(read_file(log_path()).substr(log_start))) return Launch::port_taken;
    throw std::runtime_error("redis-server on port " + std::to_string(port_) + " " +
                             describe_status(status) + "; log:\n" + log_tail());
  };
  const auto deadline = Clock::now() + 10s;
  for (;;) {
    if (auto status = try_reap(pid)) return exited(*status);
    switch (probe(port_, options_.password, pid)) {
      case Probe::ours:
        pid_ = pid;
        return Launch::ready;
      case Probe::answering:
        // Cannot read its pid (ACL rules forbid INFO to the default user): it is ours once it
        // logs that it is ready, which it does only after binding the port (a server that lost
        // the bind exits instead, and the next round reaps it).
        if (log_says_ready(read_file(log_path()).substr(log_start))) {
          pid_ = pid;
          return Launch::ready;
        }
        break;
      case Probe::someone_else:
        // Another process owns the port; our server fails its bind and exits.
        ::kill(pid, SIGKILL);
        reap(pid);
        return Launch::port_taken;
      case Probe::no_answer:
        break;
    }
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      reap(pid);
      throw std::runtime_error("redis-server on port " + std::to_string(port_) +
                               " did not answer within 10 s; log:\n" + log_tail());
    }
    // A poll (with the deadline above), not a wait: nothing tells us the moment it is ready.
    std::this_thread::sleep_for(5ms);
  }
}

void RedisServer::stop() {
  const pid_t pid = pid_.exchange(-1);
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  reap(pid);
}

void RedisServer::start() {
  if (running()) return;
  // The old server's port may briefly be held (e.g. by a test's proxy): retry, same port.
  const auto deadline = Clock::now() + 5s;
  while (launch() == Launch::port_taken) {
    if (Clock::now() > deadline) {
      throw std::runtime_error("redis-server could not bind port " + std::to_string(port_) +
                               " again within 5 s; log:\n" + log_tail());
    }
    // A retry interval (with the deadline above): nothing tells us when the port is free.
    std::this_thread::sleep_for(50ms);
  }
}

void RedisServer::suspend() {
  const pid_t pid = pid_.load();
  if (pid <= 0) throw std::logic_error("RedisServer::suspend: the server is not running");
  if (::kill(pid, SIGSTOP) != 0) throw_errno("kill SIGSTOP");
}

void RedisServer::resume() {
  const pid_t pid = pid_.load();
  if (pid <= 0) throw std::logic_error("RedisServer::resume: the server is not running");
  if (::kill(pid, SIGCONT) != 0) throw_errno("kill SIGCONT");
}

void RedisServer::pause(std::chrono::milliseconds duration) {
  suspend();
  std::this_thread::sleep_for(duration);  // the stall asked for, not a wait
  resume();
}

std::string RedisServer::cli(const std::vector<std::string>& args) const {
  std::vector<std::string> command = {
      resolve_program(env_or("ASYNCREDIS_REDIS_CLI", ASYNCREDIS_REDIS_CLI)),
      "-h",
      host(),
      "-p",
      std::to_string(port_),
      "-e"};  // an error reply exits non-zero, so it throws instead of passing as output
  if (!options_.password.empty()) {
    command.insert(command.end(), {"-a", options_.password, "--no-auth-warning"});
  }
  command.insert(command.end(), args.begin(), args.end());
  std::vector<char*> argv = make_argv(command);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  Fd out_read(out_pipe[0]), out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw_errno("pipe2");
  Fd err_read(err_pipe[0]), err_write(err_pipe[1]);
  Fd null_in(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.get() < 0) throw_errno("open /dev/null");

  // Forked on this thread, which waits for it: PR_SET_PDEATHSIG is right here.
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid == 0) exec_child(parent, argv, null_in.get(), out_write.get(), err_write.get());
  out_write.reset();
  err_write.reset();

  std::string out, err;
  const auto deadline = Clock::now() + 30s;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      reap(pid);
      throw std::runtime_error("redis-cli did not finish within 30 s (is the server suspended?)");
    }
    fds[0].fd = out_open ? out_read.get() : -1;
    fds[1].fd = err_open ? err_read.get() : -1;
    const int ready = ::poll(fds, 2, static_cast<int>(left));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    char chunk[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n > 0) {
        (i == 0 ? out : err).append(chunk, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  const int status = reap(pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string shown;
    for (const auto& arg : args) shown += " " + arg;
    throw std::runtime_error("redis-cli" + shown + " " + describe_status(status) + ": " +
                             trim(err + out));
  }
  return trim(out);
}

}  // namespace asyncredis::test
