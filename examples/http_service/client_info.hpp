// Who sent a request: the address the per-address rate limit counts, and whether the client
// reached us over TLS (then the session cookie is Secure).
#pragma once

#include <string>

#include "http_types.hpp"

namespace demo {

// Whether X-Forwarded-For / X-Forwarded-Proto are believed. Only a service that can be
// reached through one reverse proxy alone may trust them: anyone else can write them.
enum class ForwardedHeaders { ignore, trust };

struct ClientInfo {
  std::string address;  // an IP address in text form, or "unknown"
  bool over_tls = false;
};

// With ForwardedHeaders::trust: the address is the last X-Forwarded-For entry (the one the
// proxy appended; earlier ones are whatever the client sent), over_tls is X-Forwarded-Proto
// "https". A missing or unparsable entry falls back to `peer_address`, the socket's peer.
// With ForwardedHeaders::ignore: `peer_address`, and over_tls false (the demo itself serves
// plain HTTP).
ClientInfo client_info(const Request& request, const std::string& peer_address,
                       ForwardedHeaders forwarded);

}  // namespace demo
