// Subscriber's non-template members: thin forwards to its core.
#include "asyncredis/subscriber.hpp"

#include "asyncredis/client.hpp"
#include "client/client_core.hpp"
#include "pubsub/shard_router.hpp"
#include "pubsub/subscriber_core.hpp"

namespace asyncredis {

namespace {

detail::SubscriberCore::Kind core_kind(int kind) {
  return static_cast<detail::SubscriberCore::Kind>(kind);
}

}  // namespace

Subscriber::Subscriber(RedisClient& client, SubscriberOptions options) {
  if (options.max_messages < 1) {
    throw Error(errc::invalid_argument, "SubscriberOptions.max_messages: 0 must be >= 1");
  }
  if (options.max_bytes < 1) {
    throw Error(errc::invalid_argument, "SubscriberOptions.max_bytes: 0 must be >= 1");
  }
  core_ = detail::SubscriberCore::create(client.subscriber_pool(), options);
  if (client.cluster_) {
    core_->route_shard_channels(
        std::make_shared<detail::ShardRouter>(client.cluster_, options, core_));
  }
}

Subscriber::~Subscriber() {
  if (core_) core_->shutdown();
}

Subscriber::Subscriber(Subscriber&&) noexcept = default;

Subscriber& Subscriber::operator=(Subscriber&& other) noexcept {
  if (this != &other) {
    if (core_) core_->shutdown();
    core_ = std::move(other.core_);
  }
  return *this;
}

void Subscriber::start_change(Kind kind, bool add, std::vector<std::string> names,
                              VoidHandler handler) {
  core_->change(core_kind(static_cast<int>(kind)), add, std::move(names), std::move(handler));
}

void Subscriber::start_receive(MessageHandler handler) {
  core_->receive(std::move(handler));
}

std::optional<Message> Subscriber::try_receive() {
  return core_->try_receive();
}

void Subscriber::close() {
  core_->close();
}

SubscriberStats Subscriber::stats() const {
  return core_->stats();
}

std::optional<std::int64_t> Subscriber::client_id() const {
  return core_->client_id();
}

boost::asio::any_io_executor Subscriber::get_executor() const {
  return core_->executor();
}

}  // namespace asyncredis
