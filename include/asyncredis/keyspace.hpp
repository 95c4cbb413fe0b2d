// Keyspace notifications (the server's notify-keyspace-events) read from a Subscriber's
// messages:
//
//   co_await asyncredis::enable_keyspace_events(client, "KEA", use_awaitable);  // if not set
//   co_await sub.psubscribe(asyncredis::keyspace_pattern(0, "user:*"), use_awaitable);
//   while (auto m = co_await sub.receive(use_awaitable)) {
//     if (auto e = asyncredis::keyspace_event(*m)) { /* e->event "set", e->key "user:1" */ }
//   }
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/deferred.hpp>

#include "asyncredis/commands.hpp"
#include "asyncredis/subscriber.hpp"

namespace asyncredis {

/// One keyspace notification, read from a Subscriber's Message by keyspace_event().
struct KeyspaceEvent {
  std::string event;  ///< "set", "del", "expire", "expired", "evicted", ...
  std::string key;    ///< the key the event happened to
  int db = 0;         ///< the database of the key

  /// Equal when event, key and db are.
  friend bool operator==(const KeyspaceEvent&, const KeyspaceEvent&) = default;
};

/// The event a message carries: from a keyspace channel ("__keyspace@<db>__:<key>", the
/// payload is the event) or a keyevent channel ("__keyevent@<db>__:<event>", the payload is the
/// key). Nothing for any other message; it never throws for a foreign channel.
std::optional<KeyspaceEvent> keyspace_event(const Message& message);

/// What to psubscribe to for the keyspace channels of the keys matching `key_pattern` (a glob
/// pattern, as in KEYS) in database `db`: "__keyspace@0__:user:*".
std::string keyspace_pattern(int db, std::string_view key_pattern = "*");
/// What to psubscribe to for the keyevent channels of the events matching `event_pattern` (a
/// glob pattern) in database `db`: "__keyevent@0__:expired".
std::string keyevent_pattern(int db, std::string_view event_pattern = "*");

/// CONFIG SET notify-keyspace-events `flags` ("KEA" for everything; see the Redis manual). This
/// is the server's setting, for all its clients: call it only when that is what you mean (the
/// library never does by itself). Signature void(std::exception_ptr); errc::server_error when
/// the server refuses (bad flags, or CONFIG renamed away), and the command errors of any call.
template <class Token = boost::asio::deferred_t>
auto enable_keyspace_events(const Commands& commands, std::string_view flags, Token&& token = {}) {
  return commands.command<void>("CONFIG", "SET", "notify-keyspace-events", flags,
                                std::forward<Token>(token));
}

}  // namespace asyncredis
