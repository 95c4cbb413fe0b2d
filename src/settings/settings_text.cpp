// How a settings value is shown in an error message, and how a boolean is read (see
// settings_text.hpp).
#include "settings/settings_text.hpp"

#include <algorithm>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

std::string quoted_value(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out.append("\\x").push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

std::optional<bool> parse_bool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  if (lower == "true" || lower == "1" || lower == "yes") return true;
  if (lower == "false" || lower == "0" || lower == "no") return false;
  return std::nullopt;
}

void refuse_at_after_authority(std::string_view after_authority) {
  if (after_authority.find('@') == std::string_view::npos) return;
  throw Error(errc::invalid_setting,
              "REDIS URL: '@' after the host: percent-escape '/', '?' and '#' in a user or "
              "password (%2F, %3F, %23) and '@' in the query (%40)");
}

}  // namespace asyncredis::detail
