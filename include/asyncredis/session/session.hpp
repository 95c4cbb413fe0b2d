// Session: what RedisSessionRepository stores, its JSON form (the Python seed's, plus "data"),
// and session ids.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asyncredis/session/iso8601.hpp"
#include "asyncredis/session/uuid.hpp"

namespace asyncredis {

/// A login session as RedisSessionRepository stores it at `session:<id>`, in the Python
/// seed's JSON plus "data" (encode_session()).
struct Session {
  std::string id;  ///< URL-safe text, see is_valid_session_id()
  Uuid user_id;    ///< the user the session belongs to; never changes
  /// When the session was created. UTC, stored with microsecond precision (Python's);
  /// RedisSessionRepository's own times are whole microseconds, so what it returns compares equal
  /// to what it reads back.
  std::chrono::system_clock::time_point created_at;
  /// When the session ends (UTC, microseconds); the key expires then too.
  std::chrono::system_clock::time_point expires_at;
  /// Application data; a JSON object (a null is stored and read back as {}).
  nlohmann::json data = nlohmann::json::object();

  /// Equal when every field is.
  friend bool operator==(const Session&, const Session&) = default;
};

/// Bytes of CSPRNG output in a generated id: 256 bits, as Python's secrets.token_urlsafe().
inline constexpr std::size_t kSessionIdBytes = 32;
/// Characters of a generated id: base64url of kSessionIdBytes without padding.
inline constexpr std::size_t kSessionIdLength = 43;
/// The longest id the repository accepts (ids from other services included).
inline constexpr std::size_t kMaxSessionIdLength = 256;

/// A new session id: kSessionIdBytes from OpenSSL's RAND_bytes, base64url without padding
/// (A-Z a-z 0-9 - _), so it fits in a cookie or a URL unescaped. Throws Error with
/// std::errc::io_error should RAND_bytes fail.
std::string generate_session_id();

/// Whether `id` can name a session: 1 to kMaxSessionIdLength characters out of URL-unreserved
/// ones (A-Z a-z 0-9 - _ . ~). Ids generated here, by secrets.token_urlsafe() and str(uuid4())
/// all qualify. ':' is excluded, so "session:" + id can never be another key of the
/// repository (such as a user index).
bool is_valid_session_id(std::string_view id) noexcept;

/// The JSON text stored at `session:<id>`: the Python seed's fields in its order, then "data":
///
///     {"id":"...","user_id":"<uuid>","created_at":"<iso8601>","expires_at":"<iso8601>",
///      "data":{...}}
///
/// Times as format_iso8601() writes them. Compact separators (Python's json.loads and ours read
/// either). Throws Error(errc::invalid_argument) for an invalid id, data that is not an object
/// (or null), or data holding strings that are not UTF-8.
std::string encode_session(const Session& session);

/// Reads the JSON text stored at `key`, as encode_session() or the Python seed writes it:
/// "id" and "user_id" strings, "created_at" and "expires_at" ISO 8601 with an offset (any
/// offset; the result is UTC), an optional "data" object (absent or null: {}). Other fields
/// are ignored. Anything else (not JSON, not an object, a field missing or of the wrong type,
/// a bad UUID or time, an invalid id) throws Error(errc::decode_error) whose message names
/// `key` and the field.
Session decode_session(std::string_view text, std::string_view key);

}  // namespace asyncredis
