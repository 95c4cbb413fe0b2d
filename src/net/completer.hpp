// Completer: the one way a request's handler is called, by the connection that served it and
// by the pool that refused it. It runs where the handler wants to run (its associated
// executor; the client's executor when it has none).
//
// The handler's cancellation slot is left alone: it belongs to whoever emits the signal, and
// may be touched only from there (see CancelRequest in connection.cpp).
#pragma once

#include <optional>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include "net/request_queue.hpp"

namespace asyncredis::detail {

namespace asio = boost::asio;

class Completer {
 public:
  // `executor`: the client's, where handlers without an executor of their own run.
  explicit Completer(asio::any_io_executor executor);

  // Calls done.handler(done.error, done.reply). `may_run_inline` is false when the caller is
  // still inside the operation's initiating function (Asio forbids completing there) or may
  // be on another thread than the client's executor.
  void operator()(Completion&& done, bool may_run_inline = true) const;

  const asio::any_io_executor& executor() const noexcept { return executor_; }

 private:
  bool runs_on_our_context(const asio::any_completion_executor& executor) const;

  asio::any_io_executor executor_;
  asio::any_completion_executor completion_executor_;  // executor_, as handlers report it
  // executor_'s io_context executor, if that is what it is: a handler bound to it is called
  // right away from a strand of that io_context, without a type-erased hop.
  std::optional<asio::io_context::executor_type> io_executor_;
};

}  // namespace asyncredis::detail
