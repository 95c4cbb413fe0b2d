#include "cluster/redirect.hpp"

#include <charconv>
#include <string>

#include "cluster/slot.hpp"

namespace asyncredis::detail {

namespace {

template <class Int>
bool parse_number(std::string_view text, Int& value) {
  if (text.empty()) return false;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  return result.ec == std::errc{} && result.ptr == text.data() + text.size();
}

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view error, std::string_view asked_host) {
  Redirect redirect;
  if (error.starts_with("MOVED ")) {
    error.remove_prefix(6);
  } else if (error.starts_with("ASK ")) {
    redirect.kind = Redirect::Kind::ask;
    error.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = error.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!parse_number(error.substr(0, space), redirect.slot) || redirect.slot >= kClusterSlots) {
    return std::nullopt;
  }
  const std::string_view endpoint = error.substr(space + 1);
  const auto colon = endpoint.rfind(':');
  if (colon == std::string_view::npos ||
      !parse_number(endpoint.substr(colon + 1), redirect.target.port) ||
      redirect.target.port == 0) {
    return std::nullopt;
  }
  std::string_view host = endpoint.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.find_first_of(" \r\n") != std::string_view::npos) return std::nullopt;
  redirect.target.host = std::string(host.empty() ? asked_host : host);
  return redirect;
}

bool says_try_later(std::string_view error) noexcept {
  return error.starts_with("TRYAGAIN") || error.starts_with("CLUSTERDOWN");
}

}  // namespace asyncredis::detail
