// What the library keeps of a command while a CommandObserver watches it, and the helpers
// that fill a CommandEvent from it. Only made when settings.observer is set: without one the
// request path never reads the clock nor parses a command name.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/observer.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

struct Observation {
  CommandObserver* observer = nullptr;  // kept alive by the settings of whoever reports
  std::chrono::steady_clock::time_point start;
  std::string command;
  std::size_t bytes_out = 0;
  std::size_t bytes_in = 0;
  std::uint32_t retries = 0;
};

// "PIPELINE" or "MULTI" for a request of several commands (by how its replies are delivered),
// else its first command's name, upper-cased; "?" if the bytes are not a RESP command.
std::string command_name(const Request& request);

// Starts watching `request`: reads the clock and calls observer->on_start(name, node).
std::unique_ptr<Observation> observe(CommandObserver& observer, const Request& request,
                                     std::string_view node);

// The command ended: observer->on_end() with the latency until now. `error` and `reply` are
// what its handler is about to receive.
void report(const Observation& observation, std::string_view node, const std::exception_ptr& error,
            const Reply& reply) noexcept;

// The RESP2 bytes `reply` took on the wire (RESP2 has one encoding per value, so the decoded
// value says it exactly; a nil is "$-1\r\n", as the server sends it for a missing key).
std::size_t wire_size(const Reply& reply) noexcept;

}  // namespace asyncredis::detail
