#include "support/shared_target.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "cluster/slot.hpp"

namespace asyncredis::test {

SharedTarget::SharedTarget() {
  const char* target = std::getenv("ASYNCREDIS_TEST_TARGET");
  const std::string_view kind = target ? target : "";
  if (kind == "cluster") {
    cluster_ = std::make_unique<LocalCluster>();
  } else if (kind.empty() || kind == "server") {
    server_ = std::make_unique<RedisServer>();
  } else {
    throw std::invalid_argument("ASYNCREDIS_TEST_TARGET must be server or cluster, got \"" +
                                std::string(kind) + "\"");
  }
}

SharedTarget::~SharedTarget() = default;

RedisSettings SharedTarget::settings() const {
  if (!cluster_) return server_->settings();
  RedisSettings settings = cluster_->client_settings();
  settings.cache_db = 0;
  settings.session_db = 0;
  return settings;
}

std::string SharedTarget::cli(const std::vector<std::string>& args) const {
  if (!cluster_) return server_->cli(args);
  const std::string_view command = args.empty() ? "" : std::string_view(args.front());
  const auto is = [&](std::string_view name) {
    if (command.size() != name.size()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(command[i])) != name[i]) return false;
    }
    return true;
  };
  auto& cluster = const_cast<LocalCluster&>(*cluster_);
  if (is("INFO")) {
    std::string all;
    for (const std::uint16_t port : cluster.master_ports()) all += cluster.node_on(port).cli(args);
    return all;
  }
  if (is("FLUSHALL") || is("FLUSHDB") || is("SCRIPT") || is("CONFIG")) {
    std::string first;
    bool answered = false;
    for (const std::uint16_t port : cluster.master_ports()) {
      std::string out = cluster.node_on(port).cli(args);
      if (!answered) first = std::move(out);
      answered = true;
    }
    return first;
  }
  // EVAL script numkeys key ...: the first key is the fourth word.
  const bool script = is("EVAL") || is("EVALSHA") || is("FCALL");
  if (script && args.size() >= 4 && args[2] != "0") {
    return cluster.node_on(cluster.master_of(detail::slot_of(args[3]))).cli(args);
  }
  if (args.size() >= 2 && !script) {
    const std::uint16_t slot = detail::slot_of(args[1]);
    return cluster.node_on(cluster.master_of(slot)).cli(args);
  }
  return cluster.node(0).cli(args);
}

std::uint16_t SharedTarget::port() const {
  return cluster_ ? cluster_->node(0).port() : server_->port();
}

}  // namespace asyncredis::test
