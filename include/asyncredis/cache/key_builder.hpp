// KeyBuilder: cache keys derived from function arguments, stable across runs, machines and
// compilers: "<prefix>:" + lowercase hex SHA-256 of a canonical, type-tagged encoding.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace asyncredis {

/// Cache keys derived from function arguments, stable across runs, machines and compilers:
/// "<prefix>:" + lowercase hex SHA-256 of a canonical, type-tagged encoding.
///
/// The encoding (format v1; the golden vectors in tests/unit/cache_key_builder_test.cpp pin it).
/// Numbers are 8 bytes big-endian; a length or count is an unsigned 8-byte number.
///
/// ~~~
///   argument list   'A' count item...
///   null            'n'                      nullptr, std::nullopt, an empty optional, JSON null
///   bool            'b' 0x00|0x01
///   integer         'i' int64                any integer type (char excluded), JSON integers
///                   'u' uint64               only unsigned values above INT64_MAX
///   floating point  'f' IEEE-754 bits        float and double as double; -0.0 as 0.0, one NaN
///   text            's' length bytes         std::string(_view), const char*, char, u8 strings;
///                                            UTF-8 bytes as given (no Unicode normalisation)
///   bytes           'y' length bytes         std::vector<std::byte>, std::span<const std::byte>
///   sequence        'l' count item...        ranges, std::pair, std::tuple, JSON arrays
///   set             'e' count item...        std::set, std::unordered_set: items sorted by
///                                            their encoding
///   map             'm' count (key value)... std::map, std::unordered_map, JSON objects: entries
///                                            sorted by the encoding of their key
///   anything else   its JSON form (to_json), encoded as above
/// ~~~
///
/// So f(1), f(1.0) and f("1") differ, int and long of the same value agree, and two maps with
/// the same entries agree whatever their order.
class KeyBuilder {
 public:
  /// Keys are "<prefix>:<digest>"; with an empty prefix just "<digest>".
  explicit KeyBuilder(std::string prefix = {}) : prefix_(std::move(prefix)) {}

  /// The prefix the keys start with (without the ':').
  const std::string& prefix() const noexcept { return prefix_; }

  /// The key of a call with `args`. Throws Error(errc::invalid_argument) for a value that has
  /// no encoding (a discarded JSON value), and what a custom type's to_json throws.
  template <class... Args>
  std::string operator()(const Args&... args) const;

  /// The 64 lowercase hex digits of the SHA-256 of encode(args...); throws as operator() does.
  template <class... Args>
  static std::string digest(const Args&... args);

  /// The canonical bytes that are hashed, for tests and debugging; throws as operator() does.
  template <class... Args>
  static std::string encode(const Args&... args);

 private:
  std::string prefix_;
};

namespace detail {

void key_put_u64(std::string& out, std::uint64_t value);
// `tag` then key_put_u64(value).
void key_put_tagged(std::string& out, char tag, std::uint64_t value);
void key_put_int(std::string& out, std::int64_t value);
void key_put_uint(std::string& out, std::uint64_t value);
void key_put_double(std::string& out, double value);
void key_put_text(std::string& out, char tag, std::string_view bytes);
// Appends `tag`, the count and the items sorted bytewise (sets; maps as key-value strings).
void key_put_sorted(std::string& out, char tag, std::vector<std::string>& items);
void key_encode_json(std::string& out, const nlohmann::json& value);
// Lowercase hex SHA-256 (OpenSSL EVP).
std::string key_sha256_hex(std::string_view bytes);
// prefix + ':' + SHA-256 hex of `encoding` (no ':' when the prefix is empty).
std::string key_make(std::string_view prefix, std::string_view encoding);

// The calling thread's reusable encoding buffer, so a key build allocates only the key. A
// nested build (a to_json that builds a key itself) gets a buffer of its own.
class KeyScratch {
 public:
  KeyScratch();
  KeyScratch(const KeyScratch&) = delete;
  KeyScratch& operator=(const KeyScratch&) = delete;
  ~KeyScratch();
  std::string& buffer() noexcept { return *buffer_; }

 private:
  std::string own_;
  std::string* buffer_;
  bool borrowed_ = false;
};

template <class... Args>
void key_encode_all(std::string& out, const Args&... args);

template <class T>
struct KeyIsOptional : std::false_type {};
template <class T>
struct KeyIsOptional<std::optional<T>> : std::true_type {};

template <class T>
concept KeyTupleLike = requires {
  std::tuple_size<T>::value;
}
&&!std::ranges::range<T>;

template <class T>
concept KeyMapLike = std::ranges::range<T> && requires {
  typename T::key_type;
  typename T::mapped_type;
};

template <class T>
concept KeySetLike = std::ranges::range<T> && requires {
  typename T::key_type;
} && !KeyMapLike<T>;

template <class T>
void key_encode(std::string& out, const T& value) {
  using U = std::remove_cvref_t<T>;
  if constexpr (std::same_as<U, bool>) {
    out += 'b';
    out += value ? '\x01' : '\x00';
  } else if constexpr (std::same_as<U, std::nullptr_t> || std::same_as<U, std::nullopt_t>) {
    out += 'n';
  } else if constexpr (std::same_as<U, char> || std::same_as<U, char8_t>) {
    const char c = static_cast<char>(value);
    key_put_text(out, 's', std::string_view(&c, 1));
  } else if constexpr (std::integral<U>) {
    if constexpr (std::is_signed_v<U>) {
      key_put_int(out, static_cast<std::int64_t>(value));
    } else {
      key_put_uint(out, static_cast<std::uint64_t>(value));
    }
  } else if constexpr (std::floating_point<U>) {
    key_put_double(out, static_cast<double>(value));
  } else if constexpr (std::same_as<U, nlohmann::json>) {
    key_encode_json(out, value);
  } else if constexpr (KeyIsOptional<U>::value) {
    if (value) {
      key_encode(out, *value);
    } else {
      out += 'n';
    }
  } else if constexpr (std::convertible_to<const U&, std::string_view>) {
    key_put_text(out, 's', std::string_view(value));
  } else if constexpr (std::convertible_to<const U&, std::u8string_view>) {
    const std::u8string_view text(value);
    key_put_text(out, 's',
                 std::string_view(reinterpret_cast<const char*>(text.data()), text.size()));
  } else if constexpr (std::convertible_to<const U&, std::span<const std::byte>>) {
    const std::span<const std::byte> bytes(value);
    key_put_text(out, 'y',
                 std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } else if constexpr (KeyMapLike<U>) {
    std::vector<std::string> entries;
    for (const auto& [k, v] : value) {
      std::string entry;
      key_encode(entry, k);
      key_encode(entry, v);
      entries.push_back(std::move(entry));
    }
    key_put_sorted(out, 'm', entries);
  } else if constexpr (KeySetLike<U>) {
    std::vector<std::string> items;
    for (const auto& item : value) {
      std::string encoded;
      key_encode(encoded, item);
      items.push_back(std::move(encoded));
    }
    key_put_sorted(out, 'e', items);
  } else if constexpr (KeyTupleLike<U>) {
    key_put_tagged(out, 'l', std::tuple_size<U>::value);
    std::apply([&out](const auto&... items) { (key_encode(out, items), ...); }, value);
  } else if constexpr (std::ranges::input_range<U>) {
    const std::size_t count_at = out.size() + 1;  // after the tag
    key_put_tagged(out, 'l', 0);
    std::uint64_t count = 0;
    for (const auto& item : value) {
      key_encode(out, item);
      ++count;
    }
    // Patch the count in place: single-pass ranges cannot be sized up front.
    std::string count_bytes;
    key_put_u64(count_bytes, count);
    out.replace(count_at, count_bytes.size(), count_bytes);
  } else {
    key_encode_json(out, nlohmann::json(value));
  }
}

}  // namespace detail

template <class... Args>
void detail::key_encode_all(std::string& out, const Args&... args) {
  detail::key_put_tagged(out, 'A', sizeof...(Args));
  (detail::key_encode(out, args), ...);
}

template <class... Args>
std::string KeyBuilder::encode(const Args&... args) {
  std::string out;
  out.reserve(64);
  detail::key_encode_all(out, args...);
  return out;
}

template <class... Args>
std::string KeyBuilder::digest(const Args&... args) {
  detail::KeyScratch scratch;
  detail::key_encode_all(scratch.buffer(), args...);
  return detail::key_sha256_hex(scratch.buffer());
}

template <class... Args>
std::string KeyBuilder::operator()(const Args&... args) const {
  detail::KeyScratch scratch;
  detail::key_encode_all(scratch.buffer(), args...);
  return detail::key_make(prefix_, scratch.buffer());
}

}  // namespace asyncredis
