// The messages a subscribed connection receives, read from the server's RESP2 arrays:
//   ["message", channel, payload], ["pmessage", pattern, channel, payload],
//   ["smessage", channel, payload]
// and the confirmations of SUBSCRIBE and its kin: [kind, name, count], of which
// ["sunsubscribe", channel, count] also comes unasked when a cluster node gives the channel's
// slot away. On the channel
// "__redis__:invalidate" (CLIENT TRACKING's RESP2 redirection) a message's payload is an array
// of keys, or null for "everything" (FLUSHALL, FLUSHDB).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "asyncredis/reply.hpp"
#include "asyncredis/subscriber.hpp"

namespace asyncredis::detail {

// The channel the server publishes invalidations on for CLIENT TRACKING ... REDIRECT.
inline constexpr std::string_view invalidation_channel = "__redis__:invalidate";

// The Message in a pushed array; nothing when it is not one (wrong shape or types).
std::optional<Message> message_of(Reply&& pushed);

// The shard channel a pushed ["sunsubscribe", channel, count] names; nothing for any other.
std::optional<std::string> unsubscribed_shard_channel(const Reply& pushed);

// Whether `reply` confirms `command` (e.g. "subscribe") for `name`.
bool confirms(const Reply& reply, std::string_view command, std::string_view name);

}  // namespace asyncredis::detail
