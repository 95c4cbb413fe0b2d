#include "support/sentinel_cluster.hpp"

#include <map>
#include <sstream>
#include <stdexcept>

#include "support/cli_poll.hpp"
#include "support/wait.hpp"

namespace asyncredis::test {

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
  }
  return out;
}

}  // namespace

SentinelCluster::SentinelCluster(SentinelClusterOptions options) : options_(std::move(options)) {
  std::vector<std::string> tls_args;
  if (options_.tls != nullptr) {
    const TlsCerts& certs = *options_.tls;
    tls_args = {"--tls-cert-file",    certs.server().cert.native(),
                "--tls-key-file",     certs.server().key.native(),
                "--tls-ca-cert-file", certs.ca().native(),
                "--tls-auth-clients", "no",
                "--tls-replication",  "yes"};
  }
  RedisServerOptions data;
  data.password = options_.password;
  std::vector<std::string> data_args;
  if (!options_.password.empty()) data_args = {"--masterauth", options_.password};
  // A data node closes its plain port at once when on TLS: nothing may reach it in plain text.
  // (RedisServer's readiness probe needs the port until then; a sentinel cannot close its own.)
  const auto start_node = [&](const std::vector<std::string>& args) {
    start(data, tls_args, args, nodes_, node_ports_);
    if (options_.tls != nullptr) node_cli(nodes_.size() - 1, {"CONFIG", "SET", "port", "0"});
  };
  start_node(data_args);
  const std::string master_port = std::to_string(node_ports_.front());
  for (std::size_t i = 1; i < kNodes; ++i) {
    std::vector<std::string> replica_args = data_args;
    replica_args.insert(replica_args.end(), {"--replicaof", "127.0.0.1", master_port});
    start_node(replica_args);
  }
  // Replicas in sync before the sentinels look: what they first see is what tests start from.
  const auto synced = [&] {
    for (std::size_t i = 1; i < kNodes; ++i) {
      const auto role = lines_of(node_cli(i, {"ROLE"}));
      if (role.size() < 4 || role[3] != "connected") return false;
    }
    return true;
  };
  if (!wait_until(throttled(synced)))
    throw std::runtime_error("the replicas did not sync with the master");
  const std::string& name = options_.master_name;
  for (std::size_t i = 0; i < kSentinels; ++i) {
    RedisServerOptions sentinel;
    sentinel.password = options_.sentinel_password;
    sentinel.config_lines = {
        "sentinel monitor " + name + " 127.0.0.1 " + master_port + " 2",
        "sentinel down-after-milliseconds " + name + " " +
            std::to_string(options_.down_after.count()),
        "sentinel failover-timeout " + name + " " +
            std::to_string(options_.failover_timeout.count()),
    };
    if (!options_.password.empty()) {
      sentinel.config_lines.push_back("sentinel auth-pass " + name + " " + options_.password);
    }
    if (!options_.sentinel_password.empty()) {
      // The sentinels talk to each other with the same password.
      sentinel.config_lines.push_back("sentinel sentinel-pass " + options_.sentinel_password);
    }
    start(sentinel, tls_args, {"--sentinel"}, sentinels_, sentinel_ports_);
  }
  wait_settled(node_ports_.front(), kNodes - 1);
}

void SentinelCluster::start(RedisServerOptions options, const std::vector<std::string>& tls_args,
                            const std::vector<std::string>& extra_args,
                            std::vector<std::unique_ptr<RedisServer>>& servers,
                            std::vector<std::uint16_t>& ports) {
  if (options_.tls == nullptr) {
    options.extra_args = extra_args;
    servers.push_back(std::make_unique<RedisServer>(options));
    ports.push_back(servers.back()->port());
    return;
  }
  // The TLS port can be taken between free_port() and the server's bind: pick another.
  for (int attempt = 0;; ++attempt) {
    const std::uint16_t tls_port = free_port();
    options.extra_args = {"--tls-port", std::to_string(tls_port)};
    options.extra_args.insert(options.extra_args.end(), tls_args.begin(), tls_args.end());
    options.extra_args.insert(options.extra_args.end(), extra_args.begin(), extra_args.end());
    try {
      servers.push_back(std::make_unique<RedisServer>(options));
      ports.push_back(tls_port);
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 2) throw;
    }
  }
}

RedisSettings SentinelCluster::settings() const {
  RedisSettings s;
  for (const std::uint16_t port : sentinel_ports_)
    s.sentinel.sentinels.push_back({"127.0.0.1", port});
  s.sentinel.master_name = options_.master_name;
  if (!options_.sentinel_password.empty()) s.sentinel.password = options_.sentinel_password;
  if (!options_.password.empty()) s.password = options_.password;
  s.connect_timeout = std::chrono::milliseconds(1000);
  s.command_timeout = std::chrono::milliseconds(2000);
  s.reconnect_min_delay = std::chrono::milliseconds(20);
  s.reconnect_max_delay = std::chrono::milliseconds(200);
  if (options_.tls != nullptr) {
    s.tls = true;
    s.tls_options.ca_file = options_.tls->ca().native();
    s.sentinel.tls = true;
    s.sentinel.tls_options = s.tls_options;
  }
  return s;
}

std::string SentinelCluster::node_cli(std::size_t i, const std::vector<std::string>& args) const {
  if (options_.tls == nullptr) return nodes_.at(i)->cli(args);
  // Options before the command override the plain port RedisServer::cli() names first.
  std::vector<std::string> over_tls = {"-p", std::to_string(node_ports_.at(i)), "--tls", "--cacert",
                                       options_.tls->ca().native()};
  over_tls.insert(over_tls.end(), args.begin(), args.end());
  return nodes_.at(i)->cli(over_tls);
}

std::vector<std::string> SentinelCluster::ask(std::size_t i, const std::string& what) const {
  return lines_of(sentinels_.at(i)->cli({"SENTINEL", what, options_.master_name}));
}

std::uint16_t SentinelCluster::master_port() const {
  for (std::size_t i = 0; i < kSentinels; ++i) {
    if (!sentinels_[i]->running()) continue;
    try {
      const auto reply = ask(i, "get-master-addr-by-name");
      if (reply.size() == 2) return static_cast<std::uint16_t>(std::stoi(reply[1]));
    } catch (const std::runtime_error&) {
      // Asked of the next one.
    }
  }
  return 0;
}

std::vector<std::size_t> SentinelCluster::replica_nodes() const {
  const std::uint16_t master = master_port();
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < kNodes; ++i) {
    if (node_ports_[i] != master) out.push_back(i);
  }
  return out;
}

void SentinelCluster::set_replicated(const std::string& key, const std::string& value) const {
  const std::uint16_t master = master_port();
  for (std::size_t i = 0; i < kNodes; ++i) {
    if (node_ports_[i] != master) continue;
    node_cli(i, {"SET", key, value});
    node_cli(i, {"WAIT", std::to_string(kNodes - 1), "2000"});
    return;
  }
  throw std::runtime_error("no sentinel names a data node as the master");
}

RedisServer& SentinelCluster::node_on(std::uint16_t port) {
  for (std::size_t i = 0; i < kNodes; ++i) {
    if (node_ports_[i] == port) return *nodes_[i];
  }
  throw std::runtime_error("no data node on port " + std::to_string(port));
}

std::string SentinelCluster::role(std::size_t i) const {
  try {
    const auto reply = lines_of(node_cli(i, {"ROLE"}));
    return reply.empty() ? std::string() : reply.front();
  } catch (const std::runtime_error&) {
    return {};
  }
}

void SentinelCluster::wait_settled(std::uint16_t master_port, std::size_t replicas,
                                   std::chrono::milliseconds limit) const {
  std::string last;
  const auto check = [&] {
    // The data nodes agree: a demoted master is converted to a replica some seconds after
    // the sentinels list it as one.
    for (std::size_t i = 0; i < kNodes; ++i) {
      if (!nodes_[i]->running()) continue;
      const std::string wanted = node_ports_[i] == master_port ? "master" : "slave";
      if (role(i) != wanted) {
        last = "data node on port " + std::to_string(node_ports_[i]) + " is not a " + wanted;
        return false;
      }
    }
    std::size_t running = 0;
    for (const auto& sentinel : sentinels_) running += sentinel->running() ? 1 : 0;
    for (std::size_t i = 0; i < kSentinels; ++i) {
      if (!sentinels_[i]->running()) continue;
      const auto master = ask(i, "master");
      std::map<std::string, std::string> fields;
      for (std::size_t k = 0; k + 1 < master.size(); k += 2) fields[master[k]] = master[k + 1];
      std::size_t healthy = 0;
      const auto listed = ask(i, "replicas");
      for (std::size_t k = 0; k + 1 < listed.size(); ++k) {
        if (listed[k] == "flags" && listed[k + 1] == "slave") ++healthy;
      }
      last = "sentinel " + std::to_string(i) + ": master port " + fields["port"] + ", flags " +
             fields["flags"] + ", " + std::to_string(healthy) + " healthy replicas, " +
             fields["num-other-sentinels"] + " other sentinels";
      if (fields["port"] != std::to_string(master_port) || fields["flags"] != "master" ||
          healthy != replicas || fields["num-other-sentinels"] != std::to_string(running - 1)) {
        return false;
      }
    }
    return true;
  };
  // A node being converted closes every client's connection, redis-cli's too: ask again.
  const auto settled = [&] {
    try {
      return check();
    } catch (const std::runtime_error& e) {
      last = e.what();
      return false;
    }
  };
  if (!wait_until(throttled(settled), limit)) {
    throw std::runtime_error("the sentinels did not settle on master port " +
                             std::to_string(master_port) + ": " + last);
  }
}

void SentinelCluster::failover() const {
  for (std::size_t i = 0; i < kSentinels; ++i) {
    if (!sentinels_[i]->running()) continue;
    sentinels_[i]->cli({"SENTINEL", "FAILOVER", options_.master_name});
    return;
  }
  throw std::runtime_error("no sentinel running");
}

std::uint16_t SentinelCluster::wait_new_master(std::uint16_t old_port,
                                               std::chrono::milliseconds limit) const {
  std::uint16_t port = 0;
  wait_until(throttled([&] {
               port = master_port();
               return port != 0 && port != old_port;
             }),
             limit);
  return port != old_port ? port : 0;
}

}  // namespace asyncredis::test
