#include "net/handshake.hpp"

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis::detail {

Handshake make_handshake(const RedisSettings& settings, int db) {
  Handshake h;
  std::string& out = h.request.payload;
  if (settings.password) {
    if (settings.username) {
      encode_command(out, "AUTH", *settings.username, *settings.password);
      h.steps.push_back("AUTH " + *settings.username);
    } else {
      encode_command(out, "AUTH", *settings.password);
      h.steps.emplace_back("AUTH");
    }
  }
  if (db != 0) {
    encode_command(out, "SELECT", db);
    h.steps.push_back("SELECT " + std::to_string(db));
  }
  if (!settings.client_name.empty()) {
    encode_command(out, "CLIENT", "SETNAME", settings.client_name);
    h.steps.emplace_back("CLIENT SETNAME");
  }
  if (settings.sentinel.enabled()) {
    // A demoted master must never be written to: the role is checked before anything is sent.
    encode_command(out, "ROLE");
    h.steps.emplace_back(settings.sentinel.replicas ? "ROLE slave" : "ROLE master");
  }
  if (settings.is_cluster() && settings.cluster.read_from != ReadFrom::master) {
    // A cluster's replicas serve reads only after READONLY; on a master it changes nothing,
    // so every node's connections send it and a node may change roles under them.
    encode_command(out, "READONLY");
    h.steps.emplace_back("READONLY");
  }
  if (h.steps.empty()) {
    encode_command(out, "PING");
    h.steps.emplace_back("PING");
  }
  h.request.reply_count = static_cast<std::uint32_t>(h.steps.size());
  h.request.deliver = Deliver::array;
  return h;
}

void check_handshake(const Handshake& handshake, const Reply& replies) {
  if (!replies.is_array() || replies.elements().size() != handshake.steps.size()) {
    throw Error(errc::protocol_error, "handshake: expected " +
                                          std::to_string(handshake.steps.size()) +
                                          " replies, got " + to_debug_string(replies));
  }
  for (std::size_t i = 0; i < handshake.steps.size(); ++i) {
    const Reply& reply = replies.elements()[i];
    const std::string& step = handshake.steps[i];
    if (step.starts_with("ROLE ") && !reply.is_error()) {
      const std::string expected = step.substr(5);
      const bool ok = reply.is_array() && !reply.elements().empty() &&
                      reply.elements().front().str() == expected;
      if (ok) continue;
      const std::string actual = reply.is_array() && !reply.elements().empty()
                                     ? reply.elements().front().str()
                                     : to_debug_string(reply);
      throw Error(errc::not_connected, "handshake ROLE: the server is a " + actual + ", not a " +
                                           expected + " (Sentinel moved it)");
    }
    if (!reply.is_error()) {
      // Anything but the one right answer means the replies are not ours (a server talking
      // out of turn): the connection cannot be trusted to match replies to requests.
      const std::string_view expected = step == "PING" ? "PONG" : "OK";
      if (reply.is_string() && reply.str() == expected) continue;
      throw Error(errc::protocol_error, "handshake " + step + ": expected +" +
                                            std::string(expected) + ", got " +
                                            to_debug_string(reply));
    }
    const std::string& text = reply.str();
    const bool auth_problem =
        step.starts_with("AUTH") || text.starts_with("NOAUTH") || text.starts_with("WRONGPASS");
    throw Error(auth_problem ? errc::auth_failed : errc::server_error,
                "handshake " + step + ": " + text);
  }
}

}  // namespace asyncredis::detail
