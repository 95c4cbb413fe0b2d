// Helpers shared by the session sources: quoting untrusted text into error messages, and the
// CSPRNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace asyncredis::session_detail {

// `text` in double quotes for an error message: control characters and bytes >= 0x7f are
// shown as \xNN (stored values and cookies are untrusted; a message must not carry terminal
// escapes into logs), and anything past 80 bytes is cut with "...".
std::string printable(std::string_view text);

// Fills `out` from OpenSSL's CSPRNG; throws Error(std::errc::io_error) if it cannot.
void random_bytes(std::span<std::uint8_t> out);

}  // namespace asyncredis::session_detail
