// Percent-escaping for RedisSettings' URLs, shared by the redis:// and redis-sentinel:// readers
// and writers (settings_url.cpp, settings_sentinel.cpp) so both forms escape the same way.
#pragma once

#include <string>
#include <string_view>

namespace asyncredis::detail {

// ASCII letters and digits.
bool is_alnum(unsigned char c);

// RFC 3986 unreserved: what a user, a password and a query value keep unescaped.
bool is_unreserved(unsigned char c);

// What a host name may hold (from_url() refuses anything else in a host that is not IPv6).
bool is_host_char(unsigned char c);

// Appends `value` with every byte that `keep` refuses written as %XX.
void append_escaped(std::string& out, std::string_view value, bool (*keep)(unsigned char));

// Appends a host as from_url() reads it back: an IPv6 literal (any host with a ':') in
// brackets, and every byte from_url() would read as the end of the host escaped.
void append_host(std::string& out, std::string_view host);

// Percent-decodes one URL part. Throws Error(invalid_setting) "REDIS URL <part>: ..." on a
// space, a control character or a bad escape; a secret part's value is never shown.
std::string decode_url_part(std::string_view raw, std::string_view part, bool secret = false);

}  // namespace asyncredis::detail
