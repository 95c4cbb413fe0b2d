// CallOptions: the per-call settings of a command view (Commands::with()).
#pragma once

#include <chrono>

namespace asyncredis {

/// Per-call options; see Commands::with().
struct CallOptions {
  /// 0: the settings' command_timeout.
  std::chrono::milliseconds timeout{0};
  /// Send again after a reconnect if the connection broke after the request was written.
  /// Only for idempotent commands (GET, SET without INCR-like effects, ...).
  bool retry_on_reconnect = false;
};

}  // namespace asyncredis
