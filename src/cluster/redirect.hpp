// What a cluster node's error reply tells the client to do: go elsewhere (MOVED, ASK) or come
// back later (TRYAGAIN, CLUSTERDOWN).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "net/node_address.hpp"

namespace asyncredis::detail {

struct Redirect {
  enum class Kind : std::uint8_t {
    moved,  // the slot has a new owner for good: update the map, resend there
    ask,    // the slot is migrating and this key is already on `target`: ASKING, once
  };
  Kind kind = Kind::moved;
  std::uint16_t slot = 0;
  NodeAddress target;
};

// "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>"; nothing for any other text or a
// malformed one. An empty host (the node does not know its own endpoint) is `asked_host`, the
// node that answered; an IPv6 host may come with or without brackets.
std::optional<Redirect> parse_redirect(std::string_view error, std::string_view asked_host);

// TRYAGAIN (a multi-key command during a slot's migration) or CLUSTERDOWN (no quorum, or a
// slot without an owner yet): the command was not run and may be sent again after a pause.
bool says_try_later(std::string_view error) noexcept;

}  // namespace asyncredis::detail
