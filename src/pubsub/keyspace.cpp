#include "asyncredis/keyspace.hpp"

#include <charconv>

namespace asyncredis {

namespace {

// "__keyspace@<db>__:<rest>" -> db and rest; nothing for another prefix.
std::optional<std::pair<int, std::string_view>> split(std::string_view channel,
                                                      std::string_view prefix) {
  if (!channel.starts_with(prefix)) return std::nullopt;
  channel.remove_prefix(prefix.size());
  const auto end = channel.find("__:");
  if (end == std::string_view::npos || end == 0) return std::nullopt;
  int db = 0;
  const auto [ptr, ec] = std::from_chars(channel.data(), channel.data() + end, db);
  if (ec != std::errc{} || ptr != channel.data() + end || db < 0) return std::nullopt;
  return std::pair{db, channel.substr(end + 3)};
}

}  // namespace

std::optional<KeyspaceEvent> keyspace_event(const Message& message) {
  if (message.kind != Message::Kind::message && message.kind != Message::Kind::pmessage) {
    return std::nullopt;
  }
  if (auto space = split(message.channel, "__keyspace@")) {
    return KeyspaceEvent{message.payload, std::string(space->second), space->first};
  }
  if (auto event = split(message.channel, "__keyevent@")) {
    return KeyspaceEvent{std::string(event->second), message.payload, event->first};
  }
  return std::nullopt;
}

std::string keyspace_pattern(int db, std::string_view key_pattern) {
  return "__keyspace@" + std::to_string(db) + "__:" + std::string(key_pattern);
}

std::string keyevent_pattern(int db, std::string_view event_pattern) {
  return "__keyevent@" + std::to_string(db) + "__:" + std::string(event_pattern);
}

}  // namespace asyncredis
