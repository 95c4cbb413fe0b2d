// The session cookie: read from a request, written into a response.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "http_types.hpp"

namespace demo {

// The value of cookie `name` in the request's Cookie header, or "".
std::string cookie_value(const Request& request, std::string_view name);

// A Set-Cookie value for session_id=`id`: Path=/, HttpOnly (no script reads it), SameSite=Lax
// (not sent on cross-site POSTs), Max-Age `max_age` (0 clears it), and Secure when `secure`
// (the browser then sends it over HTTPS only).
std::string session_cookie(const std::string& id, std::chrono::seconds max_age, bool secure);

}  // namespace demo
