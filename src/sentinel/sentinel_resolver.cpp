#include "sentinel/sentinel_resolver.hpp"

#include <optional>

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"
#include "net/tls_context.hpp"
#include "sentinel/sentinel_link.hpp"

namespace asyncredis::detail {

namespace {

std::optional<NodeAddress> address_of(const std::string& host, const std::string& port) {
  try {
    const int number = std::stoi(port);
    if (number < 1 || number > 65535 || host.empty()) return std::nullopt;
    return NodeAddress{host, static_cast<std::uint16_t>(number)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Sorts a replica as SENTINEL replicas describes it (flat field/value pairs) into `out`:
// healthy when the sentinel does not see it down. Its master-link-status is not asked for, as
// redis-py does not: a sentinel refreshes it only every 10 s, so a replica that just synced
// (a demoted master among them) would be passed over for that long.
void sort_replica(const Reply& entry, ReplicaList& out) {
  if (!entry.is_array()) return;
  std::string ip, port, flags;
  const auto& fields = entry.elements();
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string& name = fields[i].str();
    if (name == "ip") ip = fields[i + 1].str();
    if (name == "port") port = fields[i + 1].str();
    if (name == "flags") flags = fields[i + 1].str();
  }
  const bool down = flags.find("s_down") != std::string::npos ||
                    flags.find("o_down") != std::string::npos ||
                    flags.find("disconnected") != std::string::npos;
  const auto address = address_of(ip, port);
  if (!down && address) {
    out.healthy.push_back(*address);
  } else {
    out.others += (out.others.empty() ? "" : ", ") + ip + ":" + port + " " + flags;
  }
}

}  // namespace

SentinelResolver::SentinelResolver(const RedisSettings& settings) : settings_(settings) {
  for (const SentinelAddress& address : settings.sentinel.sentinels) {
    nodes_.push_back(sentinel_node_settings(settings, address));
  }
  if (settings.sentinel.tls && !nodes_.empty()) tls_ = make_tls_context(nodes_.front());
}

template <class Result, class Read>
asio::awaitable<Result> SentinelResolver::ask(Strand strand, const std::string& command,
                                              Read read) {
  const std::string& master = settings_.sentinel.master_name;
  std::string failures;
  std::string unknown_to;
  const std::size_t first = preferred_.load(std::memory_order_relaxed);
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const std::size_t i = (first + k) % nodes_.size();
    SentinelLink link(strand, nodes_[i], tls_);
    try {
      std::vector<Reply> replies = co_await link.open(command, 1);
      Result result{};
      if (read(replies.front(), result)) {
        preferred_.store(i, std::memory_order_relaxed);
        co_return result;
      }
      unknown_to += (unknown_to.empty() ? "" : ", ") + link.peer();
    } catch (const Error& e) {
      failures += (failures.empty() ? "" : "; ") + e.message();
    }
  }
  if (!unknown_to.empty()) {
    throw Error(errc::invalid_setting,
                "sentinel.master_name '" + master + "' is not a master known to the sentinels (" +
                    unknown_to + ")" + (failures.empty() ? "" : "; others failed: " + failures));
  }
  throw Error(errc::not_connected,
              "no sentinel answered where master '" + master + "' is: " + failures);
}

asio::awaitable<ReplicaList> SentinelResolver::replicas(Strand strand) {
  std::string command;
  encode_command(command, "SENTINEL", "REPLICAS", settings_.sentinel.master_name);
  // Named: GCC 12 destroys a lambda temporary in a co_await expression twice.
  const auto read = [](const Reply& reply, ReplicaList& out) {
    if (reply.is_error() && reply.str().find("No such master") != std::string::npos) {
      return false;
    }
    if (!reply.is_array()) {
      throw Error(errc::protocol_error, "SENTINEL REPLICAS: " + to_debug_string(reply));
    }
    for (const Reply& entry : reply.elements()) {
      sort_replica(entry, out);
    }
    return true;
  };
  co_return co_await ask<ReplicaList>(strand, command, read);
}

asio::awaitable<NodeAddress> SentinelResolver::resolve(Strand strand, std::uint64_t spread) {
  if (settings_.sentinel.replicas) {
    const ReplicaList list = co_await replicas(strand);
    const std::vector<NodeAddress>& healthy = list.healthy;
    if (healthy.empty()) {
      throw Error(errc::not_connected, "no healthy replica of master '" +
                                           settings_.sentinel.master_name +
                                           "' (the sentinels list " +
                                           (list.others.empty() ? "none" : list.others) + ")");
    }
    co_return healthy[spread % healthy.size()];
  }
  std::string command;
  encode_command(command, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", settings_.sentinel.master_name);
  const auto read = [](const Reply& reply, NodeAddress& out) {
    if (reply.is_nil()) return false;
    const auto& fields = reply.elements();
    std::optional<NodeAddress> address;
    if (reply.is_array() && fields.size() == 2)
      address = address_of(fields[0].str(), fields[1].str());
    if (!address) {
      throw Error(errc::protocol_error,
                  "SENTINEL GET-MASTER-ADDR-BY-NAME: " + to_debug_string(reply));
    }
    out = std::move(*address);
    return true;
  };
  co_return co_await ask<NodeAddress>(strand, command, read);
}

}  // namespace asyncredis::detail
