// The messages a subscribed connection receives, read from the server's RESP2 arrays:
//   ["message", channel, payload], ["pmessage", pattern, channel, payload],
//   ["smessage", channel, payload]
// and the confirmations of SUBSCRIBE and its kin: [kind, name, count].
#pragma once

#include <optional>
#include <string_view>

#include "asyncredis/reply.hpp"
#include "asyncredis/subscriber.hpp"

namespace asyncredis::detail {

// The Message in a pushed array; nothing when it is not one (wrong shape or types).
std::optional<Message> message_of(Reply&& pushed);

// Whether `reply` confirms `command` (e.g. "subscribe") for `name`.
bool confirms(const Reply& reply, std::string_view command, std::string_view name);

}  // namespace asyncredis::detail
