// The text replies of INFO and CLIENT LIST, parsed into maps.
#include <string>
#include <string_view>
#include <utility>

#include "asyncredis/commands/server.hpp"

namespace asyncredis::detail {

namespace {

// Calls f(line) for each line of `text`, without its "\r\n" or "\n".
template <class F>
void for_each_line(std::string_view text, F&& f) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace

ServerInfo parse_info(std::string_view text) {
  ServerInfo info;
  std::map<std::string, std::string>* section = nullptr;
  for_each_line(text, [&](std::string_view line) {
    if (line.empty()) return;
    if (line.front() == '#') {
      line.remove_prefix(1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      section = &info[lower(line)];
      return;
    }
    // A field before any header has no section of its own; Redis always sends one first.
    if (section == nullptr) section = &info[""];
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      section->emplace(std::string(line), std::string());
    } else {
      section->emplace(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
    }
  });
  return info;
}

std::vector<ClientInfo> parse_client_list(std::string_view text) {
  std::vector<std::map<std::string, std::string>> clients;
  for_each_line(text, [&](std::string_view line) {
    if (line.empty()) return;
    auto& client = clients.emplace_back();
    // "id=3 addr=127.0.0.1:5000 ... name= ...": space-separated key=value, values without
    // spaces (Redis refuses client names with spaces).
    while (!line.empty()) {
      const std::size_t space = line.find(' ');
      const std::string_view pair = line.substr(0, space);
      const std::size_t equals = pair.find('=');
      if (equals == std::string_view::npos) {
        client.emplace(std::string(pair), std::string());
      } else {
        client.emplace(std::string(pair.substr(0, equals)), std::string(pair.substr(equals + 1)));
      }
      if (space == std::string_view::npos) break;
      line.remove_prefix(space + 1);
    }
  });
  return clients;
}

ServerInfo info_of(Reply&& reply) {
  return parse_info(std::move(reply).as<std::string>());
}

std::vector<ClientInfo> client_list_of(Reply&& reply) {
  return parse_client_list(std::move(reply).as<std::string>());
}

}  // namespace asyncredis::detail
