// Percent-escaping for RedisSettings' URLs (see settings_escape.hpp).
#include "settings/settings_escape.hpp"

#include "asyncredis/error.hpp"
#include "settings/settings_text.hpp"

namespace asyncredis::detail {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

[[noreturn]] void fail(std::string_view part, const std::string& what) {
  throw Error(errc::invalid_setting, "REDIS URL " + std::string(part) + ": " + what);
}

}  // namespace

bool is_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_unreserved(unsigned char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool is_host_char(unsigned char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_';
}

void append_escaped(std::string& out, std::string_view value, bool (*keep)(unsigned char)) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (keep(byte)) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    }
  }
}

void append_host(std::string& out, std::string_view host) {
  // Every byte from_url() would read as the end of the host (']', '/', '@', ',' between
  // sentinels, ...) is escaped: a zone id from from_url() ("%25a%5Db") must come back the same,
  // and a host set in code must never turn into a URL for another server ("h@x" is user h at
  // host x). from_url() decodes the host before it checks it, so a bad host stays an error
  // naming the host.
  if (host.find(':') != std::string_view::npos) {
    out.push_back('[');
    append_escaped(out, host, [](unsigned char c) { return is_unreserved(c) || c == ':'; });
    out.push_back(']');
  } else {
    append_escaped(out, host, is_host_char);
  }
}

std::string decode_url_part(std::string_view raw, std::string_view part, bool secret) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const auto byte = static_cast<unsigned char>(raw[i]);
    if (byte <= 0x20 || byte == 0x7f) {
      fail(part, (secret ? std::string("(value not shown)") : quoted_value(raw)) +
                     " has a space or control character; percent-escape it");
    }
    if (raw[i] != '%') {
      out.push_back(raw[i]);
      continue;
    }
    const int high = i + 1 < raw.size() ? hex_digit(raw[i + 1]) : -1;
    const int low = i + 2 < raw.size() ? hex_digit(raw[i + 2]) : -1;
    if (high < 0 || low < 0) {
      fail(part, secret ? std::string("(value not shown) has a bad percent-escape")
                        : quoted_value(raw) + " has a bad percent-escape " +
                              quoted_value(raw.substr(i, 3)));
    }
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

}  // namespace asyncredis::detail
