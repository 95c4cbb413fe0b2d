#include "cookies.hpp"

namespace demo {

std::string cookie_value(const Request& request, std::string_view name) {
  auto header = request.find(http::field::cookie);
  if (header == request.end()) return {};
  std::string_view rest = header->value();
  while (!rest.empty()) {
    auto end = rest.find(';');
    std::string_view pair = rest.substr(0, end);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return std::string(pair.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return {};
}

std::string session_cookie(const std::string& id, std::chrono::seconds max_age, bool secure) {
  std::string cookie = "session_id=" + id + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(max_age.count());
  if (secure) cookie += "; Secure";
  return cookie;
}

}  // namespace demo
