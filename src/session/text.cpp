#include "session/text.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>

#include <limits>
#include <system_error>

#include "asyncredis/error.hpp"

namespace asyncredis::session_detail {

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  static constexpr std::size_t kMaxShown = 80;
  std::string out = "\"";
  const std::size_t shown = text.size() > kMaxShown ? kMaxShown : text.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      out.append("\\x").push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(static_cast<char>(byte));
    }
  }
  out.push_back('"');
  if (shown < text.size()) out.append("...");
  return out;
}

void random_bytes(std::span<std::uint8_t> out) {
  if (out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    char reason[256] = "unknown reason";
    if (const unsigned long code = ERR_get_error(); code != 0) {
      ERR_error_string_n(code, reason, sizeof reason);
    }
    throw Error(std::make_error_code(std::errc::io_error),
                std::string("OpenSSL RAND_bytes failed: ") + reason);
  }
}

}  // namespace asyncredis::session_detail
