// The commands a new connection sends before it carries requests: AUTH, SELECT, CLIENT
// SETNAME, ROLE over Sentinel (a PING when none of them is needed, so that a connection is only
// "up" once the server has answered), and the reading of their replies.
#pragma once

#include <string>
#include <vector>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/reply.hpp"
#include "asyncredis/settings.hpp"

namespace asyncredis::detail {

struct Handshake {
  Request request;                 // every command, one write; Deliver::array
  std::vector<std::string> steps;  // a name per command, for error messages
};

Handshake make_handshake(const RedisSettings& settings, int db);

// Checks the replies (an array, one per step). Throws Error(errc::auth_failed) when AUTH is
// refused or the server demands a password that was not given, Error(errc::server_error)
// naming the step for any other error reply, Error(errc::not_connected) when ROLE is not the
// one Sentinel settings ask for (master, or slave for replicas), Error(errc::protocol_error) for a
// wrong count or a reply other than +OK (+PONG to PING).
void check_handshake(const Handshake& handshake, const Reply& replies);

}  // namespace asyncredis::detail
