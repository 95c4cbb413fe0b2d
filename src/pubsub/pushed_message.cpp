#include "pubsub/pushed_message.hpp"

#include <vector>

namespace asyncredis::detail {

namespace {

bool strings(const std::vector<Reply>& elements) {
  for (const Reply& e : elements) {
    if (!e.is_string()) return false;
  }
  return true;
}

// ["message", "__redis__:invalidate", [key, ...] or null]: an invalidation.
std::optional<Message> invalidation_of(std::vector<Reply>& e) {
  Message message;
  message.channel = std::move(e[1]).str();
  if (e[2].is_nil()) {
    message.kind = Message::Kind::invalidated_all;
    return message;
  }
  if (!e[2].is_array() || !strings(e[2].elements())) return std::nullopt;
  message.kind = Message::Kind::invalidated;
  message.keys.reserve(e[2].elements().size());
  for (Reply& key : e[2].elements()) message.keys.push_back(std::move(key).str());
  return message;
}

// [kind, name, count]
bool confirms_any(const Reply& reply) {
  if (!reply.is_array() || reply.elements().size() != 3) return false;
  const std::vector<Reply>& e = reply.elements();
  return e[0].is_string() && e[1].is_string() && e[2].is_integer();
}

}  // namespace

std::optional<Message> message_of(Reply&& pushed) {
  if (!pushed.is_array()) return std::nullopt;
  std::vector<Reply>& e = pushed.elements();
  if (e.size() == 3 && e[0].is_string() && e[0].str() == "message" && e[1].is_string() &&
      e[1].str() == invalidation_channel && !e[2].is_string()) {
    return invalidation_of(e);
  }
  if (e.empty() || !strings(e)) return std::nullopt;
  const std::string_view kind = e[0].str();
  Message message;
  if (kind == "message" && e.size() == 3) {
    message.kind = Message::Kind::message;
  } else if (kind == "smessage" && e.size() == 3) {
    message.kind = Message::Kind::smessage;
  } else if (kind == "pmessage" && e.size() == 4) {
    message.kind = Message::Kind::pmessage;
    message.pattern = std::move(e[1]).str();
  } else {
    return std::nullopt;
  }
  message.channel = std::move(e[e.size() - 2]).str();
  message.payload = std::move(e.back()).str();
  return message;
}

std::optional<std::string> unsubscribed_shard_channel(const Reply& pushed) {
  if (!confirms_any(pushed) || pushed.elements()[0].str() != "sunsubscribe") return std::nullopt;
  return pushed.elements()[1].str();
}

bool confirms(const Reply& reply, std::string_view command, std::string_view name) {
  return confirms_any(reply) && reply.elements()[0].str() == command &&
         reply.elements()[1].str() == name;
}

}  // namespace asyncredis::detail
