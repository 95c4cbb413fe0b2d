// ChildProcess: a program run by a test as another process, its stdout and stderr collected
// together. Every wait has a deadline: a program that hangs fails the test instead of stalling
// the run.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/wait.hpp"

extern char** environ;

namespace asyncredis::test {

// A program run as a child process. Its stdout and stderr go to one pipe, read by a thread
// into output(). Killed (SIGKILL) with the object if it is still running.
class ChildProcess {
 public:
  // Runs argv (argv[0] a path) with this process's environment minus every REDIS_* variable
  // (a developer's REDIS_URL must not leak in), plus `env`. Throws std::runtime_error if it
  // cannot start.
  ChildProcess(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env) {
    // Everything the child needs is built before fork(): between fork() and exec() the child
    // may only call async-signal-safe functions (other threads may hold malloc's lock).
    std::vector<std::string> args = argv;
    std::vector<std::string> environment;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      if (std::strncmp(*entry, "REDIS_", 6) != 0) environment.emplace_back(*entry);
    }
    for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
    std::vector<char*> arg_pointers;
    for (auto& a : args) arg_pointers.push_back(a.data());
    arg_pointers.push_back(nullptr);
    std::vector<char*> env_pointers;
    for (auto& e : environment) env_pointers.push_back(e.data());
    env_pointers.push_back(nullptr);

    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copies
      dup2(out[1], STDERR_FILENO);
      execve(arg_pointers[0], arg_pointers.data(), env_pointers.data());
      _exit(127);
    }
    close(out[1]);
    drain_ = std::thread([this, fd = out[0]] {
      char buffer[4096];
      for (;;) {
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        std::lock_guard lock(mutex_);
        output_.append(buffer, static_cast<std::size_t>(n));
      }
      close(fd);
    });
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  ~ChildProcess() {
    if (!status_) {
      kill(pid_, SIGKILL);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (drain_.joinable()) drain_.join();
  }

  pid_t pid() const { return pid_; }

  // Everything it wrote so far, stdout and stderr interleaved.
  std::string output() const {
    std::lock_guard lock(mutex_);
    return output_;
  }

  // Its exit status (128 + the signal when a signal ended it) once it has exited within
  // `limit`, and then all of its output is in output(); nullopt while it still runs.
  std::optional<int> wait(std::chrono::milliseconds limit = kWaitLimit) {
    wait_until([this] { return reap(); }, limit);
    if (status_ && drain_.joinable()) drain_.join();  // the pipe's end: the output is complete
    return status_;
  }

  // Sends `signal` and waits up to `limit` for the exit, then SIGKILL. The exit status.
  int stop(int signal = SIGTERM, std::chrono::milliseconds limit = kWaitLimit) {
    if (!status_) kill(pid_, signal);
    if (auto status = wait(limit)) return *status;
    kill(pid_, SIGKILL);
    return wait().value_or(-1);
  }

 private:
  bool reap() {
    if (status_) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::thread drain_;
  mutable std::mutex mutex_;
  std::string output_;
};

}  // namespace asyncredis::test
