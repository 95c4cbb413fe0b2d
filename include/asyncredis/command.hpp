// Turning C++ values into Redis command arguments, and the Pipeline request builder.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncredis/detail/resp_writer.hpp"

namespace asyncredis {

/// Customisation point: how one C++ value becomes command arguments. A specialisation has
/// `static std::size_t count(const T&)` (how many arguments) and
/// `static void append(std::string& out, const T&)` (writes them with detail::append_bulk).
template <class T, class Enable = void>
struct ToArgs;

/// A value that is one string argument as it is (std::string, string_view, literals).
template <class T>
concept StringLike = std::convertible_to<const T&, std::string_view>;

/// A string is one argument, its bytes unchanged.
template <StringLike T>
struct ToArgs<T> {
  /// Always one argument.
  static std::size_t count(const T&) noexcept { return 1; }
  /// Writes `value` as one bulk string.
  static void append(std::string& out, const T& value) {
    detail::append_bulk(out, std::string_view(value));
  }
};

/// An integer (not bool, not char) is one argument in decimal, as Redis parses it.
template <class T>
requires(std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char>) struct ToArgs<T> {
  /// Always one argument.
  static std::size_t count(const T&) noexcept { return 1; }
  /// Writes `value` in decimal.
  static void append(std::string& out, T value) {
    if constexpr (std::is_signed_v<T>) {
      detail::append_bulk(out, static_cast<std::int64_t>(value));
    } else {
      detail::append_bulk_unsigned(out, static_cast<std::uint64_t>(value));
    }
  }
};

/// A floating-point number is one argument, written so that Redis reads back the same double.
template <std::floating_point T>
struct ToArgs<T> {
  /// Always one argument.
  static std::size_t count(const T&) noexcept { return 1; }
  /// Writes `value` as a double ("inf", "-inf" for infinities); throws
  /// Error(errc::invalid_argument) for NaN, which Redis rejects.
  static void append(std::string& out, T value) {
    detail::append_bulk(out, static_cast<double>(value));
  }
};

/// Raw bytes are one binary-safe argument.
template <>
struct ToArgs<std::span<const std::byte>> {
  /// Always one argument.
  static std::size_t count(const std::span<const std::byte>&) noexcept { return 1; }
  /// Writes `bytes` unchanged as one bulk string.
  static void append(std::string& out, std::span<const std::byte> bytes) {
    detail::append_bulk(
        out, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
};
/// A vector of bytes is one binary-safe argument, as a span of them is.
template <>
struct ToArgs<std::vector<std::byte>> {
  /// Always one argument.
  static std::size_t count(const std::vector<std::byte>&) noexcept { return 1; }
  /// Writes `bytes` unchanged as one bulk string.
  static void append(std::string& out, const std::vector<std::byte>& bytes) {
    ToArgs<std::span<const std::byte>>::append(out, bytes);
  }
};

/// A pair is two arguments (field value, score member, ...).
template <class A, class B>
struct ToArgs<std::pair<A, B>> {
  /// The arguments of `first` plus those of `second`.
  static std::size_t count(const std::pair<A, B>& p) {
    return ToArgs<std::remove_cvref_t<A>>::count(p.first) +
           ToArgs<std::remove_cvref_t<B>>::count(p.second);
  }
  /// Writes `first`, then `second`.
  static void append(std::string& out, const std::pair<A, B>& p) {
    ToArgs<std::remove_cvref_t<A>>::append(out, p.first);
    ToArgs<std::remove_cvref_t<B>>::append(out, p.second);
  }
};

/// Any other range (vector, map, set, span, ...) is flattened: each element's arguments in turn.
template <class R>
requires(std::ranges::input_range<R> && !StringLike<R> &&
         !std::same_as<R, std::vector<std::byte>> &&
         !std::same_as<R, std::span<const std::byte>>) struct ToArgs<R> {
  /// The range's element type, without const and reference.
  using Element = std::remove_cvref_t<std::ranges::range_reference_t<const R>>;
  /// The sum of the elements' argument counts (an empty range adds none).
  static std::size_t count(const R& range) {
    std::size_t n = 0;
    for (const auto& element : range) n += ToArgs<Element>::count(element);
    return n;
  }
  /// Writes each element's arguments in the range's order.
  static void append(std::string& out, const R& range) {
    for (const auto& element : range) ToArgs<Element>::append(out, element);
  }
};

/// A value that can be a command argument: one with a ToArgs specialisation.
template <class T>
concept Arg = requires(std::string& out, const T& value) {
  { ToArgs<std::remove_cvref_t<T>>::count(value) } -> std::convertible_to<std::size_t>;
  ToArgs<std::remove_cvref_t<T>>::append(out, value);
};

/// Appends one command, `args` in order (the first is the command name), to `out`.
template <Arg... Args>
void encode_command(std::string& out, const Args&... args) {
  std::size_t count = (std::size_t{0} + ... + ToArgs<std::remove_cvref_t<Args>>::count(args));
  detail::append_array_header(out, count);
  (ToArgs<std::remove_cvref_t<Args>>::append(out, args), ...);
}

/// Several commands sent in one write, answered with one reply each, in order; run it with
/// execute() or transaction() on a RedisClient or Lease.
///
///     Pipeline p;
///     p.add("SET", "a", 1).add("INCR", "a");
///     std::vector<Reply> replies = co_await client.execute(p, use_awaitable);
class Pipeline {
 public:
  /// Appends one command, `args` in order (the first is the command name); returns *this to
  /// chain. Encodes it now, so `args` need not outlive the call.
  template <Arg... Args>
  Pipeline& add(const Args&... args) {
    static_assert(sizeof...(Args) > 0, "a command needs at least its name");
    encode_command(payload_, args...);
    ++size_;
    return *this;
  }

  /// How many commands were added.
  std::size_t size() const noexcept { return size_; }
  /// True when no command was added.
  bool empty() const noexcept { return size_ == 0; }
  /// The RESP bytes of every command added so far.
  const std::string& payload() const noexcept { return payload_; }
  /// Removes every command, so the pipeline can be filled again.
  void clear() noexcept {
    payload_.clear();
    size_ = 0;
  }

 private:
  std::string payload_;
  std::size_t size_ = 0;
};

}  // namespace asyncredis
