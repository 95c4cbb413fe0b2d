// What the three ways of making settings (URL, environment, validate()) and the TLS context
// share: the ceilings they check, how a boolean is read, and how a value is shown in an error
// message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace asyncredis::detail {

inline constexpr std::int64_t kMaxDatabase = 1'000'000;
inline constexpr std::int64_t kMaxConnections = 10'000;

// `value` in single quotes with control characters shown as \xNN: values go into messages that
// end up in logs, where a stray escape sequence must not be obeyed.
std::string quoted_value(std::string_view value);

// A boolean setting's value: true/false, yes/no, 1/0 in any case; nullopt for anything else.
std::optional<bool> parse_bool(std::string_view text);

// Throws Error(invalid_setting) when `after_authority` (a URL's text after its host) holds an
// '@': a user or password held '/', '?' or '#' and got split off, so the text would show part
// of the password. The message says how to escape, and shows none of it.
void refuse_at_after_authority(std::string_view after_authority);

}  // namespace asyncredis::detail
