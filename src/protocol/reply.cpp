// Reply's out-of-line members, its debug rendering, and the conversions behind Reply::as<T>().
// Every conversion checks for an error reply first, so a server error always surfaces as
// errc::server_error with Redis's text, never as a type mismatch.
#include "asyncredis/reply.hpp"

#include <charconv>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <string>
#include <system_error>

#include "asyncredis/commands.hpp"
#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {

Reply Reply::integer(std::int64_t value) {
  Reply reply;
  reply.type_ = Type::integer;
  reply.integer_ = value;
  return reply;
}

Reply Reply::array(std::vector<Reply> elements) {
  Reply reply;
  reply.type_ = Type::array;
  reply.elements_ = std::move(elements);
  return reply;
}

std::string_view to_string(Reply::Type type) noexcept {
  switch (type) {
    case Reply::Type::nil:
      return "nil";
    case Reply::Type::simple_string:
      return "simple string";
    case Reply::Type::error:
      return "error";
    case Reply::Type::integer:
      return "integer";
    case Reply::Type::bulk_string:
      return "bulk string";
    case Reply::Type::array:
      return "array";
  }
  return "unknown";
}

namespace {

void append_quoted(std::string& out, std::string_view text, std::size_t limit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    if (out.size() > limit) return;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
          const auto byte = static_cast<unsigned char>(c);
          out += "\\x";
          out += kHex[byte >> 4];
          out += kHex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Renders into `out`, giving up once `out` is longer than `limit`: an error message about a
// million-element reply must not cost a megabyte of text.
void render(std::string& out, const Reply& reply, std::size_t limit) {
  if (out.size() > limit) return;
  switch (reply.type()) {
    case Reply::Type::nil:
      out += "(nil)";
      break;
    case Reply::Type::simple_string:
    case Reply::Type::bulk_string:
      append_quoted(out, reply.str(), limit);
      break;
    case Reply::Type::error:
      out += "(error) ";
      out.append(reply.str(), 0, limit);
      break;
    case Reply::Type::integer:
      out += "(integer) ";
      out += std::to_string(reply.integer());
      break;
    case Reply::Type::array: {
      out += '[';
      bool first = true;
      for (const Reply& element : reply.elements()) {
        if (out.size() > limit) return;
        if (!first) out += ", ";
        first = false;
        render(out, element, limit);
      }
      out += ']';
      break;
    }
  }
}

constexpr std::size_t kMessageDebugLength = 64;

std::string short_debug(const Reply& reply) {
  std::string out;
  render(out, reply, kMessageDebugLength);
  if (out.size() > kMessageDebugLength) {
    out.resize(kMessageDebugLength);
    out += "...";
  }
  return out;
}

// The whole of `text` as a decimal number of type Int (no sign for unsigned, no spaces).
template <class Int>
bool parse_whole(std::string_view text, Int& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return ec == std::errc() && ptr == end && !text.empty();
}

}  // namespace

std::string to_debug_string(const Reply& reply) {
  std::string out;
  render(out, reply, std::string::npos - 1);
  return out;
}

Reply FromReply<Reply>::convert(Reply&& reply) {
  return std::move(reply);
}

namespace detail {

void throw_server_error(const Reply& reply) {
  throw Error(errc::server_error, reply.str());
}

void throw_unexpected(std::string_view expected, const Reply& found) {
  if (found.is_error()) throw_server_error(found);
  std::string message = "expected ";
  message += expected;
  message += ", got ";
  message += to_string(found.type());
  message += " (";
  message += short_debug(found);
  message += ')';
  throw Error(errc::unexpected_type, message);
}

void throw_unexpected_size(std::string_view expected, std::size_t wanted, std::size_t found) {
  std::string message = "expected ";
  message += expected;
  message += ' ';
  message += std::to_string(wanted);
  message += ", got ";
  message += std::to_string(found);
  message += found == 1 ? " element" : " elements";
  throw Error(errc::unexpected_type, message);
}

void check_not_error(const Reply& reply) {
  if (reply.is_error()) throw_server_error(reply);
}

void throw_out_of_range(std::string_view type, const Reply& found) {
  std::string message = "expected ";
  message += type;
  message += " in range, got ";
  message += to_string(found.type());
  message += " (";
  message += short_debug(found);
  message += ") out of range";
  throw Error(errc::unexpected_type, message);
}

std::int64_t to_int64(const Reply& reply) {
  check_not_error(reply);
  if (reply.is_integer()) return reply.integer();
  std::int64_t value = 0;
  if (reply.is_string() && parse_whole(reply.str(), value)) return value;
  throw_unexpected("integer", reply);
}

std::uint64_t to_uint64(const Reply& reply) {
  check_not_error(reply);
  if (reply.is_integer()) {
    if (reply.integer() < 0) throw_out_of_range("unsigned integer", reply);
    return static_cast<std::uint64_t>(reply.integer());
  }
  if (reply.is_string()) {
    std::uint64_t value = 0;
    if (parse_whole(reply.str(), value)) return value;
    // "-3" is a number, just not an unsigned one: say so rather than "not an integer".
    std::int64_t negative = 0;
    if (parse_whole(reply.str(), negative)) throw_out_of_range("unsigned integer", reply);
  }
  throw_unexpected("unsigned integer", reply);
}

double to_double(const Reply& reply) {
  check_not_error(reply);
  if (reply.is_integer()) return static_cast<double>(reply.integer());
  if (reply.is_string()) {
    std::string_view text = reply.str();
    // Redis writes infinities as "inf" and "-inf"; "+inf" is accepted as it is on input.
    if (text == "inf" || text == "+inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    double value = 0;
    if (parse_whole(text, value) && std::isfinite(value)) return value;
  }
  throw_unexpected("number", reply);
}

bool to_bool(const Reply& reply) {
  check_not_error(reply);
  switch (reply.type()) {
    case Reply::Type::integer:
      return reply.integer() != 0;
    case Reply::Type::nil:
      return false;
    case Reply::Type::simple_string:
      if (reply.str() == "OK") return true;
      [[fallthrough]];
    case Reply::Type::bulk_string:
      if (reply.str() == "1") return true;
      if (reply.str() == "0") return false;
      break;
    default:
      break;
  }
  throw_unexpected("boolean (integer, \"OK\", nil, \"1\" or \"0\")", reply);
}

std::string to_string_value(Reply&& reply) {
  switch (reply.type()) {
    case Reply::Type::simple_string:
    case Reply::Type::bulk_string:
      return std::move(reply).str();
    case Reply::Type::integer:
      return std::to_string(reply.integer());
    case Reply::Type::error:
      throw_server_error(reply);
    case Reply::Type::nil:
    case Reply::Type::array:
      break;
  }
  throw_unexpected("string", reply);
}

std::exception_ptr server_error_of(const Reply& reply) {
  return std::make_exception_ptr(Error(errc::server_error, reply.str()));
}

void throw_decode_error(std::string_view key, std::string_view what) {
  std::string message = "key '";
  message += key;
  message += "': ";
  message += what;
  throw Error(errc::decode_error, message);
}

std::chrono::system_clock::time_point time_of(Reply&& reply) {
  check_not_error(reply);
  constexpr std::string_view kExpected = "array of 2 integers (seconds, microseconds)";
  if (!reply.is_array() || reply.elements().size() != 2) throw_unexpected(kExpected, reply);
  std::int64_t parts[2] = {0, 0};
  for (std::size_t i = 0; i < 2; ++i) {
    const Reply& element = reply.elements()[i];
    bool ok = element.is_integer() ? (parts[i] = element.integer(), true)
                                   : element.is_string() && parse_whole(element.str(), parts[i]);
    if (!ok) throw_unexpected(kExpected, reply);
  }
  const std::int64_t seconds = parts[0];
  const std::int64_t micros = parts[1];
  // system_clock counts nanoseconds in 64 bits: about 292 years either side of 1970.
  constexpr std::int64_t kMaxSeconds = std::numeric_limits<std::int64_t>::max() / 1'000'000'000 - 1;
  if (seconds < 0 || seconds > kMaxSeconds || micros < 0 || micros > 999'999) {
    throw_out_of_range(kExpected, reply);
  }
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(seconds) + std::chrono::microseconds(micros)));
}

}  // namespace detail
}  // namespace asyncredis
