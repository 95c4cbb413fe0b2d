// A holder for Boost 1.81's any_completion_handler that can be move-assigned.
//
// In Boost 1.81, any_completion_handler::operator=(any_completion_handler&&) passes its
// argument as an lvalue to the converting constructor, which wraps the handler in a new one
// and recurses until the stack overflows; so does construction from a non-const lvalue. This
// holder assigns by move-construct-and-swap, so handlers can live in containers that
// move-assign (deque::erase) and in members that are reassigned.
#pragma once

#include <utility>

namespace asyncredis::detail {

template <class Handler>
class MovableHandler {
 public:
  MovableHandler() = default;
  MovableHandler(Handler&& handler) noexcept : handler_(std::move(handler)) {}  // NOLINT
  MovableHandler(MovableHandler&& other) noexcept : handler_(std::move(other.handler_)) {}
  MovableHandler& operator=(MovableHandler&& other) noexcept {
    Handler(std::move(other.handler_)).swap(handler_);
    return *this;
  }
  MovableHandler& operator=(Handler&& handler) noexcept {
    Handler(std::move(handler)).swap(handler_);
    return *this;
  }

  explicit operator bool() const noexcept { return static_cast<bool>(handler_); }
  const Handler& get() const noexcept { return handler_; }
  Handler take() noexcept { return Handler(std::move(handler_)); }

  // Calls the handler once; it is empty afterwards.
  template <class... Args>
  void operator()(Args&&... args) {
    take()(std::forward<Args>(args)...);
  }

 private:
  Handler handler_;
};

}  // namespace asyncredis::detail
