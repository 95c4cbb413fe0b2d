// Reply: one value the server sent, and its conversions to C++ types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncredis {

/// A RESP2 value: nil, simple string, error, integer, bulk string or array (nested freely).
/// What the generic command path and pipelines return; convert it with as<T>().
class Reply {
 public:
  /// The RESP2 type of a reply.
  enum class Type : std::uint8_t {
    nil,            ///< a null bulk string or null array ($-1, *-1)
    simple_string,  ///< +OK
    error,          ///< -ERR ...: an error reply, its text in str()
    integer,        ///< :3
    bulk_string,    ///< $3 abc: binary-safe bytes
    array           ///< *2 ...: elements() holds the nested replies
  };

  /// A nil reply.
  Reply() = default;

  /// A nil reply (for tests and custom conversions).
  static Reply nil() { return Reply(); }
  /// A simple string reply holding `text`.
  static Reply simple_string(std::string text) {
    return Reply(Type::simple_string, std::move(text));
  }
  /// An error reply holding the server's text `message`.
  static Reply error(std::string message) { return Reply(Type::error, std::move(message)); }
  /// A bulk string reply holding `bytes`.
  static Reply bulk_string(std::string bytes) { return Reply(Type::bulk_string, std::move(bytes)); }
  /// An integer reply.
  static Reply integer(std::int64_t value);
  /// An array reply of `elements`.
  static Reply array(std::vector<Reply> elements);

  /// The reply's RESP2 type.
  Type type() const noexcept { return type_; }
  /// True for a nil reply.
  bool is_nil() const noexcept { return type_ == Type::nil; }
  /// True for an error reply.
  bool is_error() const noexcept { return type_ == Type::error; }
  /// True for a simple or bulk string.
  bool is_string() const noexcept {
    return type_ == Type::bulk_string || type_ == Type::simple_string;
  }
  /// True for an integer reply.
  bool is_integer() const noexcept { return type_ == Type::integer; }
  /// True for an array reply.
  bool is_array() const noexcept { return type_ == Type::array; }

  /// The text of a simple string, bulk string or error; empty for other types.
  const std::string& str() const& noexcept { return str_; }
  /// The text of a simple string, bulk string or error, moved out of the reply.
  std::string&& str() && noexcept { return std::move(str_); }
  /// The value of an integer reply; 0 for other types.
  std::int64_t integer() const noexcept { return integer_; }
  /// The elements of an array reply; empty for other types.
  const std::vector<Reply>& elements() const& noexcept { return elements_; }
  /// The elements of an array reply, to modify in place; empty for other types.
  std::vector<Reply>& elements() & noexcept { return elements_; }
  /// The elements of an array reply, moved out of the reply.
  std::vector<Reply>&& elements() && noexcept { return std::move(elements_); }

  /// Converts to T (see FromReply below for the supported types). Throws asyncredis::Error:
  /// errc::server_error with the server's text when this is an error reply, errc::unexpected_type
  /// naming the expected and the found type when the types do not match.
  template <class T>
  T as() const&;
  /// as<T>() that moves the strings and elements out of this reply instead of copying them.
  template <class T>
  T as() &&;

  /// Equal when type, value and elements are (an error equals an error with the same text).
  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Reply(Type type, std::string text) : type_(type), str_(std::move(text)) {}

  Type type_ = Type::nil;
  std::int64_t integer_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

/// The name of a reply type for messages: "nil", "simple string", "error", "integer", "bulk string"
/// or "array".
std::string_view to_string(Reply::Type type) noexcept;

/// A RESP-like rendering for messages and test failures: "\"OK\"", "(integer) 3", "[...]".
std::string to_debug_string(const Reply& reply);

/// Customisation point: specialise FromReply<T> with `static T convert(Reply&& reply)` to make
/// reply.as<T>() work for your own type. The library's specialisations are in
/// asyncredis/detail/from_reply.hpp.
template <class T, class Enable = void>
struct FromReply;

}  // namespace asyncredis

#include "asyncredis/detail/from_reply.hpp"

namespace asyncredis {

/// @cond
// Defined here, after FromReply's specialisations; documented at the declarations.
template <class T>
T Reply::as() const& {
  return FromReply<T>::convert(Reply(*this));
}

template <class T>
T Reply::as() && {
  return FromReply<T>::convert(std::move(*this));
}
/// @endcond

}  // namespace asyncredis
