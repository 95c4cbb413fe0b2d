// The RESP encoder's primitives. Every command the library sends passes through here, so each
// part is formatted on the stack and lands in `out` with one append (two more for a payload
// too big to stage), and never through iostreams.
#include "asyncredis/detail/resp_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {
namespace {

// Big enough for "$20\r\n" + 20 digits + "\r\n" and for a double's shortest form (at most 24
// characters) with its header.
constexpr std::size_t kScratch = 64;
// Payloads up to this size are staged with their header, so that the part is one append.
constexpr std::size_t kStagedPayload = 128;

template <class Int>
char* write_decimal(char* first, char* last, Int value) {
  // Cannot fail: callers size the buffer for the widest value of Int.
  return std::to_chars(first, last, value).ptr;
}

// Appends "$<len>\r\n<text>\r\n" for a short `text` (digits of a number) with one append.
void append_short_bulk(std::string& out, const char* text, std::size_t size) {
  char buffer[kScratch];
  char* p = buffer;
  *p++ = '$';
  p = write_decimal(p, buffer + sizeof buffer, size);
  *p++ = '\r';
  *p++ = '\n';
  std::memcpy(p, text, size);
  p += size;
  *p++ = '\r';
  *p++ = '\n';
  out.append(buffer, static_cast<std::size_t>(p - buffer));
}

}  // namespace

void append_array_header(std::string& out, std::size_t count) {
  char buffer[kScratch];
  char* p = buffer;
  *p++ = '*';
  p = write_decimal(p, buffer + sizeof buffer, count);
  *p++ = '\r';
  *p++ = '\n';
  out.append(buffer, static_cast<std::size_t>(p - buffer));
}

void append_bulk(std::string& out, std::string_view bytes) {
  if (bytes.size() <= kStagedPayload) {
    char buffer[kScratch + kStagedPayload];
    char* p = buffer;
    *p++ = '$';
    p = write_decimal(p, buffer + sizeof buffer, bytes.size());
    *p++ = '\r';
    *p++ = '\n';
    if (!bytes.empty()) std::memcpy(p, bytes.data(), bytes.size());  // data() may be null
    p += bytes.size();
    *p++ = '\r';
    *p++ = '\n';
    out.append(buffer, static_cast<std::size_t>(p - buffer));
    return;
  }
  char header[kScratch];
  char* p = header;
  *p++ = '$';
  p = write_decimal(p, header + sizeof header, bytes.size());
  *p++ = '\r';
  *p++ = '\n';
  const auto header_size = static_cast<std::size_t>(p - header);
  // One growth for the whole part; std::string keeps its geometric growth on reserve.
  out.reserve(out.size() + header_size + bytes.size() + 2);
  out.append(header, header_size);
  out.append(bytes.data(), bytes.size());
  out.append("\r\n", 2);
}

void append_bulk(std::string& out, std::int64_t value) {
  char digits[24];
  char* end = write_decimal(digits, digits + sizeof digits, value);
  append_short_bulk(out, digits, static_cast<std::size_t>(end - digits));
}

void append_bulk_unsigned(std::string& out, std::uint64_t value) {
  char digits[24];
  char* end = write_decimal(digits, digits + sizeof digits, value);
  append_short_bulk(out, digits, static_cast<std::size_t>(end - digits));
}

void append_bulk(std::string& out, double value) {
  if (std::isnan(value)) {
    throw Error(errc::invalid_argument, "a double argument is NaN, which Redis refuses");
  }
  // Redis's own spelling; std::to_chars would write "inf" too, but "-inf" must stay exact.
  if (std::isinf(value)) {
    if (value > 0) {
      append_short_bulk(out, "inf", 3);
    } else {
      append_short_bulk(out, "-inf", 4);
    }
    return;
  }
  char digits[32];
  // Without a format, to_chars gives the shortest text that reads back to the same double.
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  if (ec != std::errc()) {  // unreachable: 32 characters hold any double's shortest form
    throw Error(errc::invalid_argument, "cannot format a double argument");
  }
  append_short_bulk(out, digits, static_cast<std::size_t>(end - digits));
}

}  // namespace asyncredis::detail
