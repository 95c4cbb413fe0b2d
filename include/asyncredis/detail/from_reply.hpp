// The library's FromReply<T> specialisations: what Reply::as<T>() converts to.
//
//   Reply                  the reply itself, error replies included (never throws)
//   std::string            simple or bulk string; an integer reply as its decimal text
//   integers (not bool)    integer reply, or a string holding a whole decimal number in range
//   float, double          string holding a number (Redis's "inf"/"-inf" included), or integer
//   bool                   integer (non-zero), simple string "OK", nil (false), string "1"/"0"
//   std::optional<T>       nil -> std::nullopt, anything else -> T
//   std::vector<T>         array, each element converted
//   map-like <K, V>        array of key, value, key, value... (HGETALL, CONFIG GET)
//   std::pair<A, B>        array of two
//   std::tuple<Ts...>      array of sizeof...(Ts)
//
// Replies that no single type describes have converters in detail (below): a flat array of
// pairs kept in order (ZRANGE WITHSCORES, HSCAN's fields), nil read as an empty value.
//
// Every conversion but Reply throws Error(errc::server_error) with the server's text for an
// error reply, and Error(errc::unexpected_type) "expected X, got Y" on a mismatch.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace asyncredis {

namespace detail {

[[noreturn]] void throw_server_error(const Reply& reply);
[[noreturn]] void throw_unexpected(std::string_view expected, const Reply& found);
[[noreturn]] void throw_unexpected_size(std::string_view expected, std::size_t wanted,
                                        std::size_t found);
// Throws server_error for an error reply; otherwise does nothing.
void check_not_error(const Reply& reply);

std::int64_t to_int64(const Reply& reply);    // integer reply or decimal string
std::uint64_t to_uint64(const Reply& reply);  // the same, unsigned
double to_double(const Reply& reply);         // number string or integer
bool to_bool(const Reply& reply);
std::string to_string_value(Reply&& reply);  // string, or integer as text
// Range-check for narrower integer types.
[[noreturn]] void throw_out_of_range(std::string_view type, const Reply& found);

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
concept MapLike = requires {
  typename T::key_type;
  typename T::mapped_type;
}
&&requires(T& m, typename T::key_type k, typename T::mapped_type v) {
  m.emplace(std::move(k), std::move(v));
};

}  // namespace detail

template <>
struct FromReply<Reply> {
  static Reply convert(Reply&& reply);
};

template <>
struct FromReply<std::string> {
  static std::string convert(Reply&& reply) { return detail::to_string_value(std::move(reply)); }
};

template <class T>
requires(std::integral<T> && !std::same_as<T, bool>) struct FromReply<T> {
  static T convert(Reply&& reply) {
    if constexpr (std::is_signed_v<T>) {
      std::int64_t v = detail::to_int64(reply);
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<std::int64_t>(std::numeric_limits<T>::max())) {
        detail::throw_out_of_range("signed integer", reply);
      }
      return static_cast<T>(v);
    } else {
      std::uint64_t v = detail::to_uint64(reply);
      if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) {
        detail::throw_out_of_range("unsigned integer", reply);
      }
      return static_cast<T>(v);
    }
  }
};

template <std::floating_point T>
struct FromReply<T> {
  static T convert(Reply&& reply) { return static_cast<T>(detail::to_double(reply)); }
};

template <>
struct FromReply<bool> {
  static bool convert(Reply&& reply) { return detail::to_bool(reply); }
};

template <class T>
struct FromReply<std::optional<T>> {
  static std::optional<T> convert(Reply&& reply);
};

template <class T, class A>
struct FromReply<std::vector<T, A>> {
  static std::vector<T, A> convert(Reply&& reply);
};

namespace detail {
// Out of the class: clang 14 cannot match an out-of-line member of this partial specialisation.
template <class M>
M map_from_reply(Reply&& reply);
}  // namespace detail

template <detail::MapLike M>
requires(!std::same_as<M, std::string>) struct FromReply<M> {
  static M convert(Reply&& reply) { return detail::map_from_reply<M>(std::move(reply)); }
};

template <class A, class B>
struct FromReply<std::pair<A, B>> {
  static std::pair<A, B> convert(Reply&& reply);
};

template <class... Ts>
struct FromReply<std::tuple<Ts...>> {
  static std::tuple<Ts...> convert(Reply&& reply);
};

}  // namespace asyncredis

// ---- container bodies (reply.hpp includes this header after Reply is complete) -------------

namespace asyncredis {

template <class T>
std::optional<T> FromReply<std::optional<T>>::convert(Reply&& reply) {
  if (reply.is_nil()) return std::nullopt;
  return FromReply<T>::convert(std::move(reply));
}

template <class T, class A>
std::vector<T, A> FromReply<std::vector<T, A>>::convert(Reply&& reply) {
  detail::check_not_error(reply);
  if (!reply.is_array()) detail::throw_unexpected("array", reply);
  std::vector<T, A> out;
  out.reserve(reply.elements().size());
  for (Reply& element : reply.elements()) out.push_back(FromReply<T>::convert(std::move(element)));
  return out;
}

template <class M>
M detail::map_from_reply(Reply&& reply) {
  detail::check_not_error(reply);
  if (!reply.is_array()) detail::throw_unexpected("array of key-value pairs", reply);
  auto& elements = reply.elements();
  if (elements.size() % 2 != 0) {
    detail::throw_unexpected_size("an even number of elements, such as", elements.size() + 1,
                                  elements.size());
  }
  M out;
  for (std::size_t i = 0; i < elements.size(); i += 2) {
    out.emplace(FromReply<typename M::key_type>::convert(std::move(elements[i])),
                FromReply<typename M::mapped_type>::convert(std::move(elements[i + 1])));
  }
  return out;
}

template <class A, class B>
std::pair<A, B> FromReply<std::pair<A, B>>::convert(Reply&& reply) {
  detail::check_not_error(reply);
  if (!reply.is_array()) detail::throw_unexpected("array of 2", reply);
  auto& elements = reply.elements();
  if (elements.size() != 2) detail::throw_unexpected_size("array of", 2, elements.size());
  return {FromReply<A>::convert(std::move(elements[0])),
          FromReply<B>::convert(std::move(elements[1]))};
}

template <class... Ts>
std::tuple<Ts...> FromReply<std::tuple<Ts...>>::convert(Reply&& reply) {
  detail::check_not_error(reply);
  if (!reply.is_array()) detail::throw_unexpected("array", reply);
  auto& elements = reply.elements();
  if (elements.size() != sizeof...(Ts)) {
    detail::throw_unexpected_size("array of", sizeof...(Ts), elements.size());
  }
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple<Ts...>(FromReply<Ts>::convert(std::move(elements[I]))...);
  }
  (std::index_sequence_for<Ts...>{});
}

}  // namespace asyncredis

namespace asyncredis::detail {

// [a1, b1, a2, b2, ...] as pairs, in the reply's order (a map would lose it).
template <class A, class B>
std::vector<std::pair<A, B>> pairs_from_flat_array(Reply&& reply) {
  check_not_error(reply);
  if (!reply.is_array()) throw_unexpected("array of pairs", reply);
  auto& elements = reply.elements();
  if (elements.size() % 2 != 0) {
    throw_unexpected_size("an even number of elements, such as", elements.size() + 1,
                          elements.size());
  }
  std::vector<std::pair<A, B>> out;
  out.reserve(elements.size() / 2);
  for (std::size_t i = 0; i < elements.size(); i += 2) {
    out.emplace_back(FromReply<A>::convert(std::move(elements[i])),
                     FromReply<B>::convert(std::move(elements[i + 1])));
  }
  return out;
}

// The converter of a command whose reply is a flat array of pairs.
template <class A, class B>
struct FlatPairs {
  std::vector<std::pair<A, B>> operator()(Reply&& reply) const {
    return pairs_from_flat_array<A, B>(std::move(reply));
  }
};

// The converter of a command that answers nil where a caller wants an empty T (LPOP key
// count on a missing list).
template <class T>
struct NilAsEmpty {
  T operator()(Reply&& reply) const {
    if (reply.is_nil()) return T{};
    return FromReply<T>::convert(std::move(reply));
  }
};

}  // namespace asyncredis::detail
