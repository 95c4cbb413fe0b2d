// Session ids: CSPRNG bytes in base64url, and the alphabet every accepted id stays within.
#include <array>
#include <cstdint>

#include "asyncredis/session/session.hpp"
#include "session/text.hpp"

namespace asyncredis {

std::string generate_session_id() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::array<std::uint8_t, kSessionIdBytes> bytes{};
  session_detail::random_bytes(bytes);

  std::string out;
  out.reserve(kSessionIdLength);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    out.push_back(kAlphabet[(group >> 6) & 63]);
    out.push_back(kAlphabet[group & 63]);
  }
  // The tail of 1 or 2 bytes, without '=' padding.
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t group = (bytes[i] << 16) | (rest == 2 ? bytes[i + 1] << 8 : 0);
    out.push_back(kAlphabet[(group >> 18) & 63]);
    out.push_back(kAlphabet[(group >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(group >> 6) & 63]);
  }
  return out;
}

bool is_valid_session_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxSessionIdLength) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
    if (!ok) return false;
  }
  return true;
}

}  // namespace asyncredis
