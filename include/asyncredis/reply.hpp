// Reply: one value the server sent, and its conversions to C++ types.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace asyncredis {

// A RESP2 value: nil, simple string, error, integer, bulk string or array (nested freely).
class Reply {
 public:
  enum class Type : std::uint8_t { nil, simple_string, error, integer, bulk_string, array };

  Reply() = default;  // nil

  static Reply nil() { return Reply(); }
  static Reply simple_string(std::string text) {
    return Reply(Type::simple_string, std::move(text));
  }
  static Reply error(std::string message) { return Reply(Type::error, std::move(message)); }
  static Reply bulk_string(std::string bytes) { return Reply(Type::bulk_string, std::move(bytes)); }
  static Reply integer(std::int64_t value);
  static Reply array(std::vector<Reply> elements);

  Type type() const noexcept { return type_; }
  bool is_nil() const noexcept { return type_ == Type::nil; }
  bool is_error() const noexcept { return type_ == Type::error; }
  bool is_string() const noexcept {
    return type_ == Type::bulk_string || type_ == Type::simple_string;
  }
  bool is_integer() const noexcept { return type_ == Type::integer; }
  bool is_array() const noexcept { return type_ == Type::array; }

  // The text of a simple string, bulk string or error; empty for other types.
  const std::string& str() const& noexcept { return str_; }
  std::string&& str() && noexcept { return std::move(str_); }
  // The value of an integer reply; 0 for other types.
  std::int64_t integer() const noexcept { return integer_; }
  // The elements of an array reply; empty for other types.
  const std::vector<Reply>& elements() const& noexcept { return elements_; }
  std::vector<Reply>& elements() & noexcept { return elements_; }
  std::vector<Reply>&& elements() && noexcept { return std::move(elements_); }

  // Converts to T (see FromReply below for the supported types). Throws asyncredis::Error:
  // errc::server_error with the server's text when this is an error reply, errc::unexpected_type
  // naming the expected and the found type when the types do not match.
  template <class T>
  T as() const&;
  template <class T>
  T as() &&;

  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Reply(Type type, std::string text) : type_(type), str_(std::move(text)) {}

  Type type_ = Type::nil;
  std::int64_t integer_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

// "nil", "simple string", "error", "integer", "bulk string" or "array".
std::string_view to_string(Reply::Type type) noexcept;

// A RESP-like rendering for messages and test failures: "\"OK\"", "(integer) 3", "[...]".
std::string to_debug_string(const Reply& reply);

// Customisation point: specialise FromReply<T> with `static T convert(Reply&& reply)` to make
// reply.as<T>() work for your own type. The library's specialisations are in
// asyncredis/detail/from_reply.hpp.
template <class T, class Enable = void>
struct FromReply;

}  // namespace asyncredis

#include "asyncredis/detail/from_reply.hpp"

namespace asyncredis {

template <class T>
T Reply::as() const& {
  return FromReply<T>::convert(Reply(*this));
}

template <class T>
T Reply::as() && {
  return FromReply<T>::convert(std::move(*this));
}

}  // namespace asyncredis
