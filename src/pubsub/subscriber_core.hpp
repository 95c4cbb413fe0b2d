// SubscriberCore: what a Subscriber is. Its connection (a subscriber connection of the
// client's, whose PushListener it is), what it is subscribed to, the messages waiting for
// receive() and the receive()s waiting for messages.
//
// subscribe() and receive() come from any thread and messages from the connection's strand,
// so one mutex guards the state; handlers are called outside it.
//
// On a cluster the shard channels are not on this core's connection: a ShardRouter puts each
// on its slot's master, through a core of that node (a "shard core") whose messages come here.
// Requests carry one SUBSCRIBE (or kin) per name: a command refused as a whole (ACL, a bad
// argument) answers with one error whatever the number of names, so one name per command keeps
// replies and requests in step.
#pragma once

#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "asyncredis/subscriber.hpp"
#include "net/completer.hpp"
#include "net/connection.hpp"
#include "pubsub/message_buffer.hpp"

namespace asyncredis::detail {

class ClientCore;
class ShardRouter;

class SubscriberCore final : public PushListener,
                             public std::enable_shared_from_this<SubscriberCore> {
 public:
  enum class Kind : std::uint8_t { channel, pattern, shard_channel };
  using VoidHandler = asio::any_completion_handler<void(std::exception_ptr)>;
  using MessageHandler =
      asio::any_completion_handler<void(std::exception_ptr, std::optional<Message>)>;

  static std::shared_ptr<SubscriberCore> create(ClientCore& client, SubscriberOptions options);
  // Use create(); public for make_shared.
  SubscriberCore(ClientCore& client, SubscriberOptions options);

  // Subscribes to (add) or unsubscribes from `names`; `handler` when the server confirmed all.
  void change(Kind kind, bool add, std::vector<std::string> names, VoidHandler handler);
  // The next message to `handler` (see Subscriber::receive).
  void receive(MessageHandler handler);
  // A buffered message, if any (see Subscriber::try_receive).
  std::optional<Message> try_receive();
  // Subscriber::close(): the connection closes, receive() drains the buffer, then nothing.
  void close();
  // ~Subscriber: everything pending fails with errc::shutting_down.
  void shutdown();

  SubscriberStats stats() const;
  // The connection's CLIENT ID, asked for first on every connection; nothing while down.
  std::optional<std::int64_t> client_id() const;
  // Bumped by every loss of the connection.
  std::uint64_t link_generation() const;

  // For ClientTracking: told (on the connection's strand or the client's executor) when the
  // connection is lost (nothing) and when a new one is subscribed again to everything (its
  // CLIENT ID). Set before the first subscription; it must not call back into this core's
  // subscribe() while being told.
  using LinkWatcher = std::function<void(std::optional<std::int64_t> ready_id)>;
  void watch_link(LinkWatcher watcher);

  // Shard channels go through `router` (a cluster's); set right after create().
  void route_shard_channels(std::shared_ptr<ShardRouter> router);
  // This core is a shard core: its messages and gaps go to `owner`'s receive().
  void forward_to(std::weak_ptr<SubscriberCore> owner);
  // Told (on the connection's strand) of shard channels the server stopped serving here: it
  // unsubscribed them by itself (their slot moved) or refused them on a reconnect (MOVED).
  // They are out of the registry already.
  using DropWatcher = std::function<void(std::vector<std::string> names)>;
  void watch_drops(DropWatcher watcher);
  // Takes shard channels out of the registry without a word to the server (its node is lost,
  // and they go elsewhere). Whether any shard channel is left.
  bool forget_shard_channels(const std::vector<std::string>& names);
  // Messages for receive(): from this core's connection, or from a shard core.
  void accept(std::vector<Message>&& messages);
  // Shard channels moved to another node: messages published meanwhile are lost, and
  // receive() says so with a Message::Kind::resubscribed.
  void note_gap();

  const asio::any_io_executor& executor() const noexcept { return completer_.executor(); }

  // PushListener, on the connection's strand.
  void on_connected(bool first) override;
  void on_lost() override;
  void on_pushes(std::vector<Reply>& messages) override;

  // A receive() cancelled through its slot.
  void cancel_receive(std::uint64_t id);

  // Completes a subscribe()'s or unsubscribe()'s request once the server confirmed its names.
  struct Confirm {
    std::weak_ptr<SubscriberCore> core;
    Kind kind;
    bool add;
    std::vector<std::string> names;
    VoidHandler handler;
    void operator()(std::exception_ptr error, Reply&& replies);
  };

 private:
  enum class State { idle, connecting, open, closed, overloaded };
  struct Change {
    Kind kind;
    bool add;
    std::vector<std::string> names;
    MovableHandler<VoidHandler> handler;
  };
  struct Waiter {
    std::uint64_t id;
    MovableHandler<MessageHandler> handler;
  };
  struct Delivery {
    MovableHandler<MessageHandler> handler;
    std::exception_ptr error;
    std::optional<Message> message;
  };

  std::set<std::string>& names_of(Kind kind);
  void send(Change&& change);
  void on_first_attempt(std::exception_ptr failure);
  void ask_client_id();
  void resubscribed(std::uint64_t generation);
  void refused_on_resubscribe(const std::vector<std::pair<std::uint32_t, std::string>>& shards,
                              const Reply& replies);
  // Closes the connection, and the shard cores' if any.
  void stop_links();
  // Puts `message` where it goes: to a waiting receive(), or in the buffer. Under mutex_.
  void take(Message&& message, std::vector<Delivery>& out);
  // Pairs waiting receive()s with buffered messages, or with the end. Under mutex_.
  void pair_waiters(std::vector<Delivery>& out);
  void deliver(std::vector<Delivery>& deliveries, bool may_run_inline);
  std::exception_ptr closed_error() const;

  const SubscriberOptions options_;
  Completer completer_;
  std::shared_ptr<Connection> connection_;

  mutable std::mutex mutex_;
  State state_ = State::idle;
  bool shut_down_ = false;
  std::set<std::string> channels_, patterns_, shard_channels_;
  std::vector<Change> pending_;  // made before the first connection came up
  MessageBuffer buffer_;
  // While the subscriptions are being renewed after a reconnect, messages wait here, behind
  // the resubscribed event the renewal ends with.
  bool resubscribing_ = false;
  std::uint64_t resubscribe_generation_ = 0;
  MessageBuffer held_;
  std::deque<Waiter> waiters_;
  std::uint64_t next_waiter_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t resubscriptions_ = 0;
  std::optional<std::int64_t> client_id_;
  std::uint64_t link_generation_ = 0;
  LinkWatcher link_watcher_;
  DropWatcher drop_watcher_;
  std::shared_ptr<ShardRouter> shard_router_;
  std::weak_ptr<SubscriberCore> owner_;  // a shard core's
};

}  // namespace asyncredis::detail
