// Completer: the one way the library calls a handler it was given: a request's, by the
// connection that served it or the pool that refused it, and a subscriber's. It runs where
// the handler wants to run (its associated executor; the client's executor when it has none).
//
// The handler's cancellation slot is left alone: it belongs to whoever emits the signal, and
// may be touched only from there (see CancelRequest in connection.cpp).
#pragma once

#include <optional>
#include <tuple>
#include <utility>

#include <boost/asio/any_completion_executor.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "net/request_queue.hpp"

namespace asyncredis::detail {

namespace asio = boost::asio;

class Completer {
 public:
  // `executor`: the client's, where handlers without an executor of their own run.
  explicit Completer(asio::any_io_executor executor);

  // Calls handler(args...). `may_run_inline` is false when the caller is still inside the
  // operation's initiating function (Asio forbids completing there) or may be on another
  // thread than the client's executor.
  template <class Handler, class... Args>
  void call(Handler&& handler, bool may_run_inline, Args&&... args) const {
    auto executor = asio::get_associated_executor(handler, completion_executor_);
    if (may_run_inline && runs_on_our_context(executor)) {
      // We run on a strand of the handler's io_context: dispatch would call it right here.
      std::move(handler)(std::forward<Args>(args)...);
      return;
    }
    auto call = [handler = std::move(handler),
                 args = std::make_tuple(std::forward<Args>(args)...)]() mutable {
      std::apply([&](auto&&... a) { std::move(handler)(std::move(a)...); }, std::move(args));
    };
    if (may_run_inline) {
      asio::dispatch(executor, std::move(call));
    } else {
      // The handler's executor may be type-erased without blocking.never; go through ours.
      asio::post(executor_, asio::bind_executor(executor, std::move(call)));
    }
  }

  // A request's completion: done.handler(done.error, done.reply).
  void operator()(Completion&& done, bool may_run_inline = true) const {
    call(done.handler.take(), may_run_inline, std::move(done.error), std::move(done.reply));
  }

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
