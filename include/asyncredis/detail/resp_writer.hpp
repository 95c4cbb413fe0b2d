// The RESP encoder's primitives: append a command's parts to a reusable buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace asyncredis::detail {

// "*<count>\r\n": the header of a command of `count` arguments.
void append_array_header(std::string& out, std::size_t count);
// "$<len>\r\n<bytes>\r\n": one binary-safe argument.
void append_bulk(std::string& out, std::string_view bytes);
// An integer argument in decimal.
void append_bulk(std::string& out, std::int64_t value);
void append_bulk_unsigned(std::string& out, std::uint64_t value);
// A double in the shortest form that reads back to the same value ("inf", "-inf" for
// infinities). NaN is refused with Error(errc::invalid_argument): Redis rejects it.
void append_bulk(std::string& out, double value);

}  // namespace asyncredis::detail
