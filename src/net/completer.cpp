#include "net/completer.hpp"

namespace asyncredis::detail {

namespace {

// An io_context executor is stored unwrapped, so that copying it (once per completion) does
// not allocate.
asio::any_completion_executor erase_small(const asio::any_io_executor& executor) {
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return asio::any_completion_executor(std::nothrow, *io);
  }
  return asio::any_completion_executor(std::nothrow, executor);
}

std::optional<asio::io_context::executor_type> io_executor_of(
    const asio::any_io_executor& executor) {
  if (const auto* io = executor.target<asio::io_context::executor_type>()) return *io;
  return std::nullopt;
}

}  // namespace

Completer::Completer(asio::any_io_executor executor)
    : executor_(std::move(executor)),
      completion_executor_(erase_small(executor_)),
      io_executor_(io_executor_of(executor_)) {}

bool Completer::runs_on_our_context(const asio::any_completion_executor& executor) const {
  if (!io_executor_) return false;
  if (const auto* io = executor.target<asio::io_context::executor_type>()) {
    return *io == *io_executor_;
  }
  if (const auto* erased = executor.target<asio::any_io_executor>()) {
    const auto* io = erased->target<asio::io_context::executor_type>();
    return io != nullptr && *io == *io_executor_;
  }
  return false;
}

}  // namespace asyncredis::detail
