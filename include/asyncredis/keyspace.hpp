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

struct KeyspaceEvent {
  std::string event;  // "set", "del", "expire", "expired", "evicted", ...
  std::string key;
  int db = 0;

  friend bool operator==(const KeyspaceEvent&, const KeyspaceEvent&) = default;
};

// The event a message carries: from a keyspace channel ("__keyspace@<db>__:<key>", the
// payload is the event) or a keyevent channel ("__keyevent@<db>__:<event>", the payload is the
// key). Nothing for any other message.
std::optional<KeyspaceEvent> keyspace_event(const Message& message);

// What to psubscribe to: the keyspace channels of the keys matching `key_pattern` in database
// `db` ("__keyspace@0__:user:*"), or the keyevent channels of the events matching
// `event_pattern` ("__keyevent@0__:expired"). The patterns are glob patterns, as in KEYS.
std::string keyspace_pattern(int db, std::string_view key_pattern = "*");
std::string keyevent_pattern(int db, std::string_view event_pattern = "*");

// CONFIG SET notify-keyspace-events `flags` ("KEA" for everything; see the Redis manual). This
// is the server's setting, for all its clients: call it only when that is what you mean (the
// library never does by itself). Signature void(std::exception_ptr).
template <class Token = boost::asio::deferred_t>
auto enable_keyspace_events(const Commands& commands, std::string_view flags, Token&& token = {}) {
  return commands.command<void>("CONFIG", "SET", "notify-keyspace-events", flags,
                                std::forward<Token>(token));
}

}  // namespace asyncredis
