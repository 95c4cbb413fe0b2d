#include "support/local_cluster.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "support/cli_poll.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

namespace {

// "field:value" lines (CLUSTER INFO, INFO) into a map.
std::map<std::string, std::string> fields_of(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 1);
  }
  return out;
}

}  // namespace

LocalCluster::LocalCluster(LocalClusterOptions options) : options_(std::move(options)) {
  const std::size_t count = options_.masters * (1 + options_.replicas_per_master);
  if (options_.masters < 3) throw std::runtime_error("redis-cli --cluster needs 3 masters");
  RedisServerOptions node;
  node.cluster = true;
  node.password = options_.password;
  node.extra_args = {"--cluster-node-timeout", std::to_string(options_.node_timeout.count())};
  if (!options_.password.empty()) {
    node.extra_args.insert(node.extra_args.end(), {"--masterauth", options_.password});
  }
  std::vector<std::string> create;
  if (options_.tls != nullptr) {
    const TlsCerts& certs = *options_.tls;
    create = {"--tls", "--cacert", certs.ca().native()};
    node.extra_args.insert(
        node.extra_args.end(),
        {"--tls-cert-file", certs.server().cert.native(), "--tls-key-file",
         certs.server().key.native(), "--tls-ca-cert-file", certs.ca().native(),
         "--tls-auth-clients", "no", "--tls-replication", "yes", "--tls-cluster", "yes",
         // A node is a TLS client of the others' bus, which always asks for a certificate:
         // the server one is for serverAuth only.
         "--tls-client-cert-file", certs.client().cert.native(), "--tls-client-key-file",
         certs.client().key.native()});
  }
  for (std::size_t i = 0; i < count; ++i) {
    RedisServerOptions options = node;
    if (options_.tls != nullptr) {
      // The cluster bus is on the TLS port + 10000 then: free_cluster_port() checks both.
      tls_ports_.push_back(free_cluster_port());
      options.extra_args.insert(options.extra_args.end(),
                                {"--tls-port", std::to_string(tls_ports_.back())});
    }
    nodes_.push_back(std::make_unique<RedisServer>(options));
  }
  create.insert(create.end(), {"--cluster", "create"});
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const std::uint16_t port = options_.tls != nullptr ? tls_ports_[i] : nodes_[i]->port();
    create.push_back(nodes_[i]->host() + ":" + std::to_string(port));
  }
  create.insert(create.end(), {"--cluster-replicas", std::to_string(options_.replicas_per_master),
                               "--cluster-yes"});
  nodes_.front()->cli(create);
  wait_ok();
}

RedisSettings LocalCluster::client_settings() const {
  RedisSettings settings = seed_settings();
  if (options_.tls != nullptr) {
    settings.port = tls_ports_.front();
    settings.tls = true;
    settings.tls_options.ca_file = options_.tls->ca().native();
  }
  settings.cluster_nodes = {ClusterNode{settings.host, settings.port}};
  return settings;
}

RedisServer& LocalCluster::node_on(std::uint16_t port) {
  for (auto& n : nodes_) {
    if (n->port() == port) return *n;
  }
  throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

std::uint16_t LocalCluster::master_of(std::uint16_t slot, std::size_t asked) const {
  // CLUSTER NODES: "<id> <ip:port@bus[,hostname]> <flags> <master id> <ping> <pong> <epoch>
  // <link> <slot or range>...", one node per line.
  std::istringstream in(nodes_.at(asked)->cli({"CLUSTER", "NODES"}));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string id, address, flags, master, ping, pong, epoch, link;
    words >> id >> address >> flags >> master >> ping >> pong >> epoch >> link;
    if (flags.find("master") == std::string::npos || flags.find("fail") != std::string::npos) {
      continue;
    }
    for (std::string range; words >> range;) {
      if (range.front() == '[') continue;  // a slot being migrated or imported
      const auto dash = range.find('-');
      const long first = std::stol(range.substr(0, dash));
      const long last = dash == std::string::npos ? first : std::stol(range.substr(dash + 1));
      if (slot >= first && slot <= last) {
        const auto colon = address.rfind(':', address.find('@'));
        return static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)));
      }
    }
  }
  throw std::runtime_error("no master serves slot " + std::to_string(slot));
}

std::vector<std::uint16_t> LocalCluster::master_ports() const {
  std::vector<std::uint16_t> out;
  for (const auto& n : nodes_) {
    if (n->running() && n->cli({"ROLE"}).starts_with("master")) out.push_back(n->port());
  }
  return out;
}

std::uint16_t LocalCluster::replica_of(std::uint16_t master) const {
  // A replica's ROLE: "slave", its master's host, its master's port, link state, offset.
  for (const auto& n : nodes_) {
    if (!n->running()) continue;
    std::istringstream role(n->cli({"ROLE"}));
    std::string kind, host, port;
    std::getline(role, kind);
    std::getline(role, host);
    std::getline(role, port);
    if (kind == "slave" && port == std::to_string(master)) return n->port();
  }
  throw std::runtime_error("no running replica of the master on port " + std::to_string(master));
}

void LocalCluster::wait_master(std::uint16_t port, std::chrono::milliseconds limit) const {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const RedisServer* node = nullptr;
  for (const auto& n : nodes_) {
    if (n->port() == port) node = n.get();
  }
  if (node == nullptr) throw std::runtime_error("no cluster node on port " + std::to_string(port));
  const auto promoted = [&] {
    try {
      return node->cli({"ROLE"}).starts_with("master");
    } catch (const std::runtime_error&) {
      return false;
    }
  };
  if (!wait_until(throttled(promoted), limit)) {
    throw std::runtime_error("the node on port " + std::to_string(port) +
                             " did not become a master: ROLE says " + node->cli({"ROLE"}));
  }
  wait_ok(std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
      deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration{})));
}

std::string LocalCluster::id_of(std::uint16_t port) const {
  for (const auto& n : nodes_) {
    if (n->port() == port) return n->cli({"CLUSTER", "MYID"});
  }
  throw std::runtime_error("no cluster node on port " + std::to_string(port));
}

void LocalCluster::begin_migration(std::uint16_t slot, std::uint16_t from, std::uint16_t to) {
  const std::string s = std::to_string(slot);
  node_on(to).cli({"CLUSTER", "SETSLOT", s, "IMPORTING", id_of(from)});
  node_on(from).cli({"CLUSTER", "SETSLOT", s, "MIGRATING", id_of(to)});
}

std::size_t LocalCluster::migrate_keys(std::uint16_t slot, std::uint16_t from, std::uint16_t to,
                                       std::size_t count) {
  std::istringstream in(
      node_on(from).cli({"CLUSTER", "GETKEYSINSLOT", std::to_string(slot), std::to_string(count)}));
  std::vector<std::string> keys;
  for (std::string key; std::getline(in, key);) {
    if (!key.empty()) keys.push_back(key);
  }
  if (keys.empty()) return 0;
  std::vector<std::string> migrate = {"MIGRATE", node_on(to).host(), std::to_string(to), "", "0",
                                      "5000"};
  if (!options_.password.empty()) migrate.insert(migrate.end(), {"AUTH", options_.password});
  migrate.push_back("KEYS");
  migrate.insert(migrate.end(), keys.begin(), keys.end());
  const std::string answer = node_on(from).cli(migrate);
  if (answer != "OK") throw std::runtime_error("MIGRATE: " + answer);
  return keys.size();
}

void LocalCluster::end_migration(std::uint16_t slot, std::uint16_t to) {
  const std::string s = std::to_string(slot);
  const std::string owner = id_of(to);
  // The new owner first, so that it serves the slot before the others point at it.
  node_on(to).cli({"CLUSTER", "SETSLOT", s, "NODE", owner});
  for (std::uint16_t port : master_ports()) {
    if (port != to) node_on(port).cli({"CLUSTER", "SETSLOT", s, "NODE", owner});
  }
}

void LocalCluster::move_slot(std::uint16_t slot, std::uint16_t to) {
  const std::uint16_t from = master_of(slot);
  if (from == to) return;
  begin_migration(slot, from, to);
  while (migrate_keys(slot, from, to, 100) > 0) {
  }
  end_migration(slot, to);
}

void LocalCluster::wait_ok(std::chrono::milliseconds limit) const {
  std::size_t running = 0;
  for (const auto& n : nodes_) running += n->running() ? 1 : 0;
  std::string last;
  const auto ok = [&] {
    for (const auto& n : nodes_) {
      if (!n->running()) continue;
      auto info = fields_of(n->cli({"CLUSTER", "INFO"}));
      last = "node " + std::to_string(n->port()) + ": state " + info["cluster_state"] +
             ", slots ok " + info["cluster_slots_ok"] + ", known nodes " +
             info["cluster_known_nodes"];
      if (info["cluster_state"] != "ok" || info["cluster_slots_ok"] != "16384" ||
          std::stoul(info["cluster_known_nodes"]) < running) {
        return false;
      }
      auto replication = fields_of(n->cli({"INFO", "replication"}));
      if (replication["role"] == "slave" && replication["master_link_status"] != "up") {
        last = "replica " + std::to_string(n->port()) + ": master link " +
               replication["master_link_status"];
        return false;
      }
    }
    return true;
  };
  // A node restarting refuses redis-cli for a moment: not ready yet.
  const auto ready = [&] {
    try {
      return ok();
    } catch (const std::runtime_error& e) {
      last = e.what();
      return false;
    }
  };
  if (!wait_until(throttled(ready), limit)) {
    throw std::runtime_error("the cluster is not ready: " + last);
  }
}

}  // namespace asyncredis::test
