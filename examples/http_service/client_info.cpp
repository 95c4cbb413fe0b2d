#include "client_info.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/string.hpp>

namespace demo {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The last comma-separated entry of the last `name` line: what the nearest proxy wrote.
// Proxies append, as a new entry or a new line; a client can only write what comes before.
std::string_view last_entry(const Request& request, std::string_view name) {
  std::string_view last;
  for (const auto& line : request) {
    if (boost::beast::iequals(line.name_string(), name)) last = line.value();
  }
  const auto comma = last.rfind(',');
  return trimmed(comma == std::string_view::npos ? last : last.substr(comma + 1));
}

}  // namespace

ClientInfo client_info(const Request& request, const std::string& peer_address,
                       ForwardedHeaders forwarded) {
  ClientInfo client{peer_address, false};
  if (forwarded == ForwardedHeaders::ignore) return client;

  boost::system::error_code ec;
  const auto address =
      boost::asio::ip::make_address(std::string(last_entry(request, "X-Forwarded-For")), ec);
  if (!ec) client.address = address.to_string();  // one spelling per address: one budget

  std::string proto(last_entry(request, "X-Forwarded-Proto"));
  std::transform(proto.begin(), proto.end(), proto.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  client.over_tls = proto == "https";
  return client;
}

}  // namespace demo
