// The session codec's pieces the repository needs beyond decode_session(): the parsed JSON
// kept in its stored field order, so touch() can change expires_at and leave every other field
// (a Python service's extra ones included) as it was.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asyncredis/session/session.hpp"

namespace asyncredis::session_detail {

using OrderedJson = nlohmann::ordered_json;

// Error(errc::decode_error) "session at <key>: <what>".
[[noreturn]] void throw_decode_error(std::string_view key, std::string_view what);

// The stored text as a JSON object; decode_error naming `key` otherwise.
OrderedJson parse_stored(std::string_view text, std::string_view key);

// The Session in a parsed object; decode_error naming `key` and the field otherwise.
Session session_from_json(const OrderedJson& json, std::string_view key);

}  // namespace asyncredis::session_detail
