// Adapts a user's completion handler of signature void(std::exception_ptr, T) to the library's
// void(std::exception_ptr, From&&) (a Reply for commands, what a cache lookup found for the
// cache), converting on completion; forwards the user's associated executor, allocator and
// cancellation slot. The one adapter of its kind: the cache uses it too.
#pragma once

#include <exception>
#include <type_traits>
#include <utility>

#include <boost/asio/associator.hpp>

#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

template <class T>
struct DefaultConvert {
  T operator()(Reply&& reply) const { return std::move(reply).template as<T>(); }
};

template <class T>
struct Signature {
  using type = void(std::exception_ptr, T);
};
template <>
struct Signature<void> {
  using type = void(std::exception_ptr);
};
template <class T>
using signature_t = typename Signature<T>::type;

// Convert: From&& -> T; it may throw, and the exception reaches the handler.
template <class T, class Handler, class Convert = DefaultConvert<T>, class From = Reply>
class ConvertingHandler {
 public:
  ConvertingHandler(Handler handler, Convert convert)
      : handler_(std::move(handler)), convert_(std::move(convert)) {}

  void operator()(std::exception_ptr error, From&& reply) {
    if constexpr (std::is_void_v<T>) {
      if (!error && reply.is_error()) error = error_of(reply);
      std::move(handler_)(error);
    } else {
      if (error) {
        std::move(handler_)(std::move(error), T{});
        return;
      }
      T value{};
      try {
        value = convert_(std::move(reply));
      } catch (...) {
        std::move(handler_)(std::current_exception(), T{});
        return;
      }
      std::move(handler_)(std::exception_ptr(), std::move(value));
    }
  }

  const Handler& handler() const noexcept { return handler_; }

 private:
  static std::exception_ptr error_of(const Reply& reply);

  Handler handler_;
  [[no_unique_address]] Convert convert_;
};

// The exception for an error reply (errc::server_error with the server's text).
std::exception_ptr server_error_of(const Reply& reply);

template <class T, class Handler, class Convert, class From>
std::exception_ptr ConvertingHandler<T, Handler, Convert, From>::error_of(const Reply& reply) {
  return server_error_of(reply);
}

}  // namespace asyncredis::detail

template <template <class, class> class Associator, class T, class Handler, class Convert,
          class From, class DefaultCandidate>
struct boost::asio::associator<
    Associator, asyncredis::detail::ConvertingHandler<T, Handler, Convert, From>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
  static typename Associator<Handler, DefaultCandidate>::type get(
      const asyncredis::detail::ConvertingHandler<T, Handler, Convert, From>& h) noexcept {
    return Associator<Handler, DefaultCandidate>::get(h.handler());
  }
  static auto get(const asyncredis::detail::ConvertingHandler<T, Handler, Convert, From>& h,
                  const DefaultCandidate& c) noexcept
      -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler(), c)) {
    return Associator<Handler, DefaultCandidate>::get(h.handler(), c);
  }
};
