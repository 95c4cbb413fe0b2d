// Subscriber: publish/subscribe on a connection of its own, kept through reconnects.
//
//   asyncredis::Subscriber sub(client);
//   const std::vector<std::string> channels{"orders", "refunds"};
//   co_await sub.subscribe(channels, use_awaitable);
//   co_await sub.psubscribe("user:*", use_awaitable);
//   while (auto m = co_await sub.receive(use_awaitable)) {
//     if (m->kind == asyncredis::Message::Kind::resubscribed) { /* a gap: resynchronise */ }
//     else handle(m->channel, m->payload);
//   }
//
// Every operation takes any completion token and may be started from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/deferred.hpp>

#include "asyncredis/command.hpp"

namespace asyncredis {

class RedisClient;
namespace detail {
class SubscriberCore;
}

/// One thing Subscriber::receive() hands over.
struct Message {
  /// What the message is.
  enum class Kind : std::uint8_t {
    message,       ///< published to a channel subscribed to (SUBSCRIBE)
    pmessage,      ///< published to a channel matching a pattern (PSUBSCRIBE); `pattern` says which
    smessage,      ///< published to a shard channel (SSUBSCRIBE)
    resubscribed,  ///< the connection was lost and is back, subscribed again to everything:
                   ///< messages published in between are lost. No channel, no payload.
    /// Client-side caching: on the channel `__redis__:invalidate`, the server says `keys` were
    /// changed (CLIENT TRACKING ... REDIRECT to this subscriber, see ClientTracking). Empty
    /// payload.
    invalidated,
    /// Client-side caching: on `__redis__:invalidate`, a null payload: every key may have
    /// changed (FLUSHALL, FLUSHDB). No keys, empty payload.
    invalidated_all,
  };
  Kind kind = Kind::message;  ///< what the message is
  std::string pattern;        ///< the pattern that matched; pmessage only
  std::string channel;        ///< the channel it was published to
  std::string payload;        ///< bytes, as published
  /// Messages dropped before this one because the consumer fell behind (drop_oldest).
  std::size_t dropped = 0;
  /// The keys an invalidated message names; empty for every other kind.
  std::vector<std::string> keys;

  /// Equal when every field is.
  friend bool operator==(const Message&, const Message&) = default;
};

/// How much a Subscriber buffers for a slow consumer, and what it does when that is full.
struct SubscriberOptions {
  /// Messages received from the server and not yet taken by receive(): at most this many...
  std::size_t max_messages = 10'000;
  /// ... and at most this many bytes (channel, pattern and payload).
  std::size_t max_bytes = 64u * 1024u * 1024u;
  /// What happens to a message that does not fit in the buffer.
  enum class WhenFull {
    drop_oldest,  ///< the oldest buffered messages go; the next one received says how many
    disconnect,   ///< the subscriber closes: receive() hands over what it has, then fails
                  ///< with errc::overloaded
  };
  WhenFull when_full = WhenFull::drop_oldest;  ///< drop_oldest unless you prefer to fail
};

/// A Subscriber's counters (Subscriber::stats()), readable from any thread.
struct SubscriberStats {
  std::uint64_t received = 0;      ///< messages from the server
  std::uint64_t dropped = 0;       ///< of those, dropped because the buffer was full
  std::uint64_t resubscribed = 0;  ///< reconnections after which everything was subscribed again
  std::size_t buffered = 0;        ///< waiting for receive() now
  std::size_t channels = 0;        ///< channels subscribed (or being subscribed) now
  std::size_t patterns = 0;        ///< patterns subscribed (or being subscribed) now
  std::size_t shard_channels = 0;  ///< shard channels subscribed (or being subscribed) now
};

/// Publish/subscribe on a connection of its own, kept through reconnects: after a lost
/// connection it subscribes again to everything and hands over a Message::Kind::resubscribed.
///
///     asyncredis::Subscriber sub(client);
///     const std::vector<std::string> channels{"orders", "refunds"};
///     co_await sub.subscribe(channels, use_awaitable);
///     while (auto m = co_await sub.receive(use_awaitable)) handle(m->channel, m->payload);
///
/// Every operation takes any completion token and may be started from any thread.
class Subscriber {
 public:
  /// A subscriber with `client`'s settings (address, TLS, user and password, timeouts) on a
  /// connection of its own, opened by the first subscription. It may outlive the client.
  /// On a cluster client the connection goes to one master (a message published on any node
  /// reaches every node's subscribers); the client must be connected, else
  /// Error(errc::not_connected). Shard channels (ssubscribe()) go to the master of their
  /// slot, one connection per master, and follow the slot when it moves (see ssubscribe()).
  explicit Subscriber(RedisClient& client, SubscriberOptions options = {});
  /// Closes the connection; operations still pending complete with errc::shutting_down.
  ~Subscriber();
  /// Takes over the other subscriber's connection and subscriptions; the moved-from one may
  /// only be destroyed or assigned to.
  Subscriber(Subscriber&&) noexcept;
  /// Closes this subscriber's connection (as the destructor does), then takes over the other's.
  Subscriber& operator=(Subscriber&&) noexcept;

  /// SUBSCRIBE to the channels `names`, one name or a range of them (a vector, an initializer
  /// list). Completes once the server has confirmed every one; the names stay subscribed
  /// through reconnects. Fails with the connection's error (errc::timeout after the command
  /// timeout, errc::not_connected, errc::auth_failed, ...), errc::invalid_argument for an empty
  /// list, errc::shutting_down after close(). Signature void(std::exception_ptr).
  /// psubscribe() and ssubscribe() work and fail the same way.
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto subscribe(const Names& names, Token&& token = {}) {
    return start(Kind::channel, true, names_of(names), std::forward<Token>(token));
  }
  /// SUBSCRIBE to one channel; as subscribe(names).
  template <class Token = boost::asio::deferred_t>
  auto subscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::channel, true, {std::string(name)}, std::forward<Token>(token));
  }
  /// PSUBSCRIBE to the glob patterns `patterns` ("user:*"), whose messages come as pmessage;
  /// completes and fails as subscribe(names).
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto psubscribe(const Names& patterns, Token&& token = {}) {
    return start(Kind::pattern, true, names_of(patterns), std::forward<Token>(token));
  }
  /// PSUBSCRIBE to one pattern; as psubscribe(patterns).
  template <class Token = boost::asio::deferred_t>
  auto psubscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::pattern, true, {std::string(name)}, std::forward<Token>(token));
  }
  /// SSUBSCRIBE to the shard channels `names` (Redis 7), whose messages come as smessage;
  /// completes and fails as subscribe(names). On a cluster client each channel goes to the
  /// master of its slot (following MOVED up to cluster.max_redirections), and moves with the
  /// slot: when the node gives the slot away, or is lost and the slot map names a new master,
  /// the channel is subscribed again there and receive() hands over a
  /// Message::Kind::resubscribed (messages published meanwhile are lost). On one node, a
  /// channel the server unsubscribes by itself (a cluster node giving its slot away) is dropped.
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto ssubscribe(const Names& names, Token&& token = {}) {
    return start(Kind::shard_channel, true, names_of(names), std::forward<Token>(token));
  }
  /// SSUBSCRIBE to one shard channel; as ssubscribe(names).
  template <class Token = boost::asio::deferred_t>
  auto ssubscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::shard_channel, true, {std::string(name)}, std::forward<Token>(token));
  }
  /// UNSUBSCRIBE from the channels `names` (not subscribed ones are fine). Messages already
  /// received for them are still handed over. Fails as subscribe() does; an empty list is
  /// errc::invalid_argument. Signature void(std::exception_ptr).
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto unsubscribe(const Names& names, Token&& token = {}) {
    return start(Kind::channel, false, names_of(names), std::forward<Token>(token));
  }
  /// UNSUBSCRIBE from one channel; as unsubscribe(names).
  template <class Token = boost::asio::deferred_t>
  auto unsubscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::channel, false, {std::string(name)}, std::forward<Token>(token));
  }
  /// PUNSUBSCRIBE from the patterns `patterns`; as unsubscribe(names).
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto punsubscribe(const Names& patterns, Token&& token = {}) {
    return start(Kind::pattern, false, names_of(patterns), std::forward<Token>(token));
  }
  /// PUNSUBSCRIBE from one pattern; as unsubscribe(names).
  template <class Token = boost::asio::deferred_t>
  auto punsubscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::pattern, false, {std::string(name)}, std::forward<Token>(token));
  }
  /// SUNSUBSCRIBE from the shard channels `names`; as unsubscribe(names).
  template <class Names = std::initializer_list<std::string_view>,
            class Token = boost::asio::deferred_t>
  requires(!StringLike<Names>) auto sunsubscribe(const Names& names, Token&& token = {}) {
    return start(Kind::shard_channel, false, names_of(names), std::forward<Token>(token));
  }
  /// SUNSUBSCRIBE from one shard channel; as unsubscribe(names).
  template <class Token = boost::asio::deferred_t>
  auto sunsubscribe(std::string_view name, Token&& token = {}) {
    return start(Kind::shard_channel, false, {std::string(name)}, std::forward<Token>(token));
  }

  /// The next message, in the order the server sent them (a resubscribed event where a gap
  /// was), or std::nullopt once close() was called and everything buffered was handed over.
  /// No timeout: it waits as long as no message comes; cancel it (Asio cancellation, e.g. a
  /// timer with awaitable operators) to stop waiting. Several may wait at once; each message
  /// goes to one of them, in the order they began. Fails with errc::cancelled, errc::overloaded
  /// (WhenFull::disconnect), errc::shutting_down (the Subscriber destroyed).
  /// Signature void(std::exception_ptr, std::optional<Message>).
  template <class Token = boost::asio::deferred_t>
  auto receive(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr, std::optional<Message>)>(
        [](auto handler, Subscriber* self) { self->start_receive(std::move(handler)); }, token,
        this);
  }

  /// The next buffered message without waiting, or std::nullopt when none is buffered now
  /// (receive() then waits for one, or tells the end or the error). For a consumer that takes
  /// what one read brought in one go, e.g. to answer it in one write:
  ///
  ///     while (auto m = sub.try_receive()) handle(*m);
  std::optional<Message> try_receive();

  /// Closes the connection. Pending subscribe()s fail with errc::shutting_down; receive()
  /// hands over what is buffered, then std::nullopt.
  void close();

  /// A snapshot of the counters; callable from any thread.
  SubscriberStats stats() const;
  /// The server's CLIENT ID of the subscriber's connection (what CLIENT TRACKING ... REDIRECT
  /// names), or std::nullopt while it is not connected or not yet known. A new connection has
  /// a new id: after a Message::Kind::resubscribed, read it again. Any thread.
  std::optional<std::int64_t> client_id() const;
  /// The executor the subscriber's connection runs on (the client's).
  boost::asio::any_io_executor get_executor() const;

 private:
  enum class Kind : std::uint8_t { channel, pattern, shard_channel };
  using VoidHandler = boost::asio::any_completion_handler<void(std::exception_ptr)>;
  using MessageHandler =
      boost::asio::any_completion_handler<void(std::exception_ptr, std::optional<Message>)>;

  static std::vector<std::string> names_of(std::initializer_list<std::string_view> names) {
    return {names.begin(), names.end()};
  }
  template <class Range>
  requires(std::ranges::input_range<Range> &&
           !StringLike<Range>) static std::vector<std::string> names_of(const Range& names) {
    std::vector<std::string> out;
    for (const auto& name : names) out.emplace_back(std::string_view(name));
    return out;
  }

  template <class Token>
  auto start(Kind kind, bool add, std::vector<std::string> names, Token&& token) {
    return boost::asio::async_initiate<Token, void(std::exception_ptr)>(
        [](auto handler, Subscriber* self, Kind kind, bool add, std::vector<std::string> names) {
          self->start_change(kind, add, std::move(names), std::move(handler));
        },
        token, this, kind, add, std::move(names));
  }

  void start_change(Kind kind, bool add, std::vector<std::string> names, VoidHandler handler);
  void start_receive(MessageHandler handler);

  std::shared_ptr<detail::SubscriberCore> core_;
};

}  // namespace asyncredis
