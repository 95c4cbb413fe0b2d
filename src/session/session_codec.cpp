// Session <-> the JSON text at session:<id>. Field order and time format follow the Python
// seed, which reads these values with json.loads and datetime.fromisoformat.
#include "session/session_codec.hpp"

#include <optional>

#include "asyncredis/error.hpp"
#include "session/text.hpp"

namespace asyncredis {
namespace session_detail {
namespace {

const std::string& string_field(const OrderedJson& json, const char* name, std::string_view key) {
  const auto it = json.find(name);
  if (it == json.end()) throw_decode_error(key, std::string("field \"") + name + "\" is missing");
  if (!it->is_string()) {
    throw_decode_error(
        key, std::string("field \"") + name + "\" is " + it->type_name() + ", expected a string");
  }
  return it->get_ref<const std::string&>();
}

std::chrono::system_clock::time_point time_field(const OrderedJson& json, const char* name,
                                                 std::string_view key) {
  try {
    return parse_iso8601(string_field(json, name, key));
  } catch (const Error& e) {
    if (e.code() == make_error_code(errc::decode_error)) throw;
    throw_decode_error(key, std::string("field \"") + name + "\": " + e.message());
  }
}

}  // namespace

void throw_decode_error(std::string_view key, std::string_view what) {
  throw Error(errc::decode_error, "session at " + printable(key) + ": " + std::string(what));
}

OrderedJson parse_stored(std::string_view text, std::string_view key) {
  OrderedJson json = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) throw_decode_error(key, "stored value is not JSON: " + printable(text));
  if (!json.is_object()) {
    throw_decode_error(
        key, std::string("stored value is a JSON ") + json.type_name() + ", expected an object");
  }
  return json;
}

Session session_from_json(const OrderedJson& json, std::string_view key) {
  Session session;
  session.id = string_field(json, "id", key);
  if (!is_valid_session_id(session.id)) {
    throw_decode_error(key, "field \"id\" " + printable(session.id) + " is not a valid session id");
  }
  const std::string& user_id = string_field(json, "user_id", key);
  const std::optional<Uuid> uuid = Uuid::try_parse(user_id);
  if (!uuid) {
    throw_decode_error(key,
                       "field \"user_id\" " + printable(user_id) + " is not a UUID (8-4-4-4-12)");
  }
  session.user_id = *uuid;
  session.created_at = time_field(json, "created_at", key);
  session.expires_at = time_field(json, "expires_at", key);
  if (const auto it = json.find("data"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      throw_decode_error(
          key, std::string("field \"data\" is ") + it->type_name() + ", expected an object");
    }
    session.data = nlohmann::json(*it);
  }
  return session;
}

}  // namespace session_detail

std::string encode_session(const Session& session) {
  if (!is_valid_session_id(session.id)) {
    throw Error(errc::invalid_argument,
                "session id " + session_detail::printable(session.id) +
                    " is not valid: 1-256 characters out of A-Z a-z 0-9 - _ . ~");
  }
  if (!session.data.is_object() && !session.data.is_null()) {
    throw Error(errc::invalid_argument,
                std::string("session data must be a JSON object, got ") + session.data.type_name());
  }
  std::string out;
  out.reserve(160);
  // Written by hand rather than through a json object: nlohmann::json sorts keys, and the
  // seed's order (id, user_id, created_at, expires_at) keeps stored values easy to compare.
  // The id needs no escaping: is_valid_session_id() admits no quote, backslash or control.
  out.append("{\"id\":\"").append(session.id);
  out.append("\",\"user_id\":\"").append(session.user_id.to_string());
  out.append("\",\"created_at\":\"").append(format_iso8601(session.created_at));
  out.append("\",\"expires_at\":\"").append(format_iso8601(session.expires_at));
  out.append("\",\"data\":");
  try {
    out.append(session.data.is_null() ? std::string("{}") : session.data.dump());
  } catch (const nlohmann::json::exception& e) {
    throw Error(errc::invalid_argument,
                std::string("session data cannot be written as JSON: ") + e.what());
  }
  out.push_back('}');
  return out;
}

Session decode_session(std::string_view text, std::string_view key) {
  return session_detail::session_from_json(session_detail::parse_stored(text, key), key);
}

}  // namespace asyncredis
