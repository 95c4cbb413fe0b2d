// asyncredis-bench --command outage: what waiting through an outage costs the io thread.
//
// Connects, shuts the server down (SHUTDOWN NOSAVE: run it against a throwaway server), then
// issues --requests GETs evenly over --duration seconds while nothing answers. Each waits in
// its connection's queue until its timeout (command_timeout, 5 s unless the settings say
// otherwise) expires it. Prints the CPU time of the io thread (this one), in all and per
// request: timers, queueing and expiry, which must not grow with what is waiting.
#include "outage.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

struct Tally {
  long done = 0, timed_out = 0, overloaded = 0, other = 0;
  std::string first_other;
};

}  // namespace

int outage_bench(asyncredis::RedisSettings settings, long requests, double duration, bool json) {
  asio::io_context io(1);
  settings.health_check_interval = std::chrono::milliseconds(0);
  asyncredis::RedisClient client(io.get_executor(), settings);
  Tally tally;
  asio::steady_timer tick(io);
  std::string failure;
  long issued = 0;
  double cpu_start = 0, cpu_end = 0;
  Clock::time_point wall_start, wall_end;
  const auto step = std::chrono::milliseconds(10);
  const double per_tick = static_cast<double>(requests) * 0.010 / duration;

  auto finish_if_done = [&] {
    if (tally.done < requests) return;
    cpu_end = thread_cpu_seconds();
    wall_end = Clock::now();
    client.disconnect([](std::exception_ptr) {});
  };
  auto on_done = [&](std::exception_ptr error, std::optional<std::string>) {
    const std::error_code code = asyncredis::error_code_of(error);
    if (code == asyncredis::errc::timeout) {
      ++tally.timed_out;
    } else if (code == asyncredis::errc::overloaded) {
      ++tally.overloaded;
    } else {
      if (tally.other++ == 0) tally.first_other = asyncredis::error_message_of(error);
    }
    ++tally.done;
    finish_if_done();
  };
  std::function<void()> issue_tick = [&] {
    const double elapsed = std::chrono::duration<double>(Clock::now() - wall_start).count();
    const long due = std::min(requests, static_cast<long>(elapsed / 0.010 * per_tick) + 1);
    for (; issued < due; ++issued) client.get("key:__rand_int__", on_done);
    if (issued < requests) {
      tick.expires_after(step);
      tick.async_wait([&](boost::system::error_code) { issue_tick(); });
    }
  };
  // Starts once the client has seen the server go.
  std::function<void()> wait_for_outage = [&] {
    if (client.stats().connected > 0) {
      tick.expires_after(std::chrono::milliseconds(1));
      tick.async_wait([&](boost::system::error_code) { wait_for_outage(); });
      return;
    }
    cpu_start = thread_cpu_seconds();
    wall_start = Clock::now();
    issue_tick();
  };
  client.connect([&](std::exception_ptr error) {
    if (error) {
      failure = asyncredis::error_message_of(error);
      return;
    }
    client.command<asyncredis::Reply>(
        "SHUTDOWN", "NOSAVE", [&](std::exception_ptr, asyncredis::Reply) { wait_for_outage(); });
  });
  io.run();
  if (!failure.empty()) {
    std::cerr << "asyncredis-bench: " << failure << "\n";
    return 1;
  }
  const double cpu = cpu_end - cpu_start;
  const double wall = std::chrono::duration<double>(wall_end - wall_start).count();
  const double us_per_request = cpu * 1e6 / static_cast<double>(requests);
  if (json) {
    nlohmann::json out = {{"client", "asyncredis"},
                          {"cmd", "OUTAGE"},
                          {"requests", requests},
                          {"duration_s", duration},
                          {"secs", wall},
                          {"io_cpu_s", cpu},
                          {"cpu_us_per_request", us_per_request},
                          {"timed_out", tally.timed_out},
                          {"overloaded", tally.overloaded},
                          {"other_errors", tally.other}};
    std::cout << out.dump() << std::endl;
  } else {
    std::printf(
        "RESULT client=asyncredis cmd=OUTAGE n=%ld duration_s=%.1f secs=%.3f io_cpu_s=%.3f "
        "cpu_us_per_request=%.2f timed_out=%ld overloaded=%ld other_errors=%ld\n",
        requests, duration, wall, cpu, us_per_request, tally.timed_out, tally.overloaded,
        tally.other);
    if (tally.other > 0) std::printf("first other error: %s\n", tally.first_other.c_str());
  }
  return 0;
}
