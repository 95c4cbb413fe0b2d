#include "cluster/topology_fetch.hpp"

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "client/client_core.hpp"

namespace asyncredis::detail {

namespace {

std::exception_ptr failure(errc code, const NodeAddress& node, const std::string& what) {
  return std::make_exception_ptr(Error(code, describe(node) + ": " + what));
}

// The server's answer to CLUSTER SHARDS: SLOTS is asked instead when it does not know SHARDS.
bool unknown_subcommand(const Reply& reply) {
  return reply.is_error() && (reply.str().find("unknown subcommand") != std::string::npos ||
                              reply.str().find("Unknown subcommand") != std::string::npos);
}

void fetch_slots(std::shared_ptr<ClientCore> pool, NodeAddress node,
                 std::chrono::milliseconds timeout, FetchedTopology fetched, FetchDone done) {
  Request request;
  encode_command(request.payload, "CLUSTER", "SLOTS");
  request.timeout = timeout;
  pool->submit(std::move(request), [node, fetched = std::move(fetched), done = std::move(done)](
                                       std::exception_ptr error, Reply&& reply) mutable {
    if (!error && reply.is_error()) {
      error = failure(errc::server_error, node, "CLUSTER SLOTS: " + reply.str());
    }
    if (!error) {
      try {
        fetched.topology = ClusterTopology::from_slots(reply, node);
      } catch (...) {
        error = std::current_exception();
      }
    }
    done(error, std::move(fetched));
  });
}

}  // namespace

void fetch_topology(const std::shared_ptr<ClientCore>& pool, const NodeAddress& node, bool tls,
                    bool with_commands, std::chrono::milliseconds timeout, FetchDone done) {
  Request request;
  if (with_commands) encode_command(request.payload, "COMMAND");
  encode_command(request.payload, "CLUSTER", "SHARDS");
  request.reply_count = with_commands ? 2 : 1;
  request.deliver = Deliver::array;
  request.timeout = timeout;
  pool->submit(std::move(request), [pool, node, tls, timeout, with_commands,
                                    done = std::move(done)](std::exception_ptr error,
                                                            Reply&& replies) mutable {
    FetchedTopology fetched;
    if (error) return done(error, std::move(fetched));
    auto& all = replies.elements();
    if (all.size() != (with_commands ? 2u : 1u)) {
      return done(failure(errc::protocol_error, node, "wrong number of replies"),
                  std::move(fetched));
    }
    Reply& shards = all.back();
    try {
      if (with_commands) {
        if (all.front().is_error()) {
          return done(failure(errc::server_error, node, "COMMAND: " + all.front().str()),
                      std::move(fetched));
        }
        fetched.commands = std::make_shared<const CommandTable>(CommandTable::parse(all.front()));
      }
      if (shards.is_error() && shards.str().find("cluster support disabled") != std::string::npos) {
        return done(
            failure(errc::invalid_setting, node,
                    "cluster_nodes: this server is not in cluster mode (" + shards.str() + ")"),
            std::move(fetched));
      }
      if (unknown_subcommand(shards)) {
        return fetch_slots(std::move(pool), node, timeout, std::move(fetched), std::move(done));
      }
      if (shards.is_error()) {
        return done(failure(errc::server_error, node, "CLUSTER SHARDS: " + shards.str()),
                    std::move(fetched));
      }
      fetched.topology = ClusterTopology::from_shards(shards, node, tls);
    } catch (...) {
      return done(std::current_exception(), std::move(fetched));
    }
    done(nullptr, std::move(fetched));
  });
}

}  // namespace asyncredis::detail
