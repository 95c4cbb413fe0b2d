#include "sentinel/sentinel_link.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include "asyncredis/error.hpp"
#include "net/handshake.hpp"

namespace asyncredis::detail {

RedisSettings sentinel_node_settings(const RedisSettings& settings,
                                     const SentinelAddress& address) {
  RedisSettings node = settings;
  node.sentinel = SentinelSettings{};
  node.host = address.host;
  node.port = address.port;
  node.unix_socket.clear();
  node.username = settings.sentinel.username;
  node.password = settings.sentinel.password;
  node.tls = settings.sentinel.tls;
  node.tls_options = settings.sentinel.tls_options;
  node.client_name.clear();
  node.observer = nullptr;
  return node;
}

SentinelLink::State::State(Strand strand, const RedisSettings& node_settings,
                           std::shared_ptr<TlsContext> tls)
    : node(node_settings), transport(strand, node, std::move(tls)), deadline(strand) {}

SentinelLink::SentinelLink(Strand strand, const RedisSettings& node,
                           std::shared_ptr<TlsContext> tls)
    : state_(std::make_shared<State>(strand, node, std::move(tls))), buffer_(16 * 1024) {}

SentinelLink::~SentinelLink() {
  close();
}

void SentinelLink::close() noexcept {
  state_->deadline.cancel();
  state_->transport.close();
}

asio::awaitable<std::vector<Reply>> SentinelLink::open(const std::string& commands,
                                                       std::size_t count) {
  State& state = *state_;
  const std::string& peer = state.transport.peer();
  state.timed_out = false;
  state.deadline.expires_after(state.node.connect_timeout);
  state.deadline.async_wait([weak = std::weak_ptr<State>(state_)](auto ec) {
    auto s = weak.lock();
    if (ec || !s) return;
    s->timed_out = true;
    s->transport.close();
  });
  try {
    co_await state.transport.connect();
    const Handshake plan = make_handshake(state.node, 0);
    std::string payload = plan.request.payload + commands;
    co_await state.transport.async_write(asio::buffer(payload), asio::use_awaitable);
    std::vector<Reply> replies = co_await read_replies(plan.steps.size() + count);
    std::vector<Reply> answers(std::make_move_iterator(replies.begin() + plan.steps.size()),
                               std::make_move_iterator(replies.end()));
    replies.resize(plan.steps.size());
    check_handshake(plan, Reply::array(std::move(replies)));
    state.deadline.cancel();
    co_return answers;
  } catch (const Error& e) {
    state.deadline.cancel();
    if (state.timed_out) throw Error(errc::timeout, peer + ": no answer within connect_timeout");
    throw Error(e.code(), peer + ": " + e.message());
  } catch (const boost::system::system_error& e) {
    state.deadline.cancel();
    if (state.timed_out) {
      throw Error(errc::timeout, peer + ": no answer within " +
                                     std::to_string(state.node.connect_timeout.count()) + " ms");
    }
    if (auto why = state.transport.tls_failure(e.code())) {
      throw Error(errc::tls_error, peer + ": TLS handshake failed: " + *why);
    }
    std::string what = e.code().message();
    // A TLS-only sentinel drops a plain-text client without a word: say what that may mean.
    if (!state.node.tls &&
        (e.code() == asio::error::eof || e.code() == asio::error::connection_reset)) {
      what += " (a TLS port? then turn on sentinel.tls)";
    }
    throw Error(errc::not_connected, peer + ": " + what);
  }
}

asio::awaitable<Reply> SentinelLink::next() {
  try {
    std::vector<Reply> one = co_await read_replies(1);
    co_return std::move(one.front());
  } catch (const boost::system::system_error& e) {
    throw Error(errc::connection_lost, state_->transport.peer() + ": " + e.code().message());
  }
}

asio::awaitable<std::vector<Reply>> SentinelLink::read_replies(std::size_t count) {
  std::vector<Reply> replies;
  Reply reply;
  while (replies.size() < count) {
    switch (reader_.next(reply)) {
      case ReplyReader::Status::reply:
        replies.push_back(std::move(reply));
        continue;
      case ReplyReader::Status::error:
        throw Error(errc::protocol_error,
                    state_->transport.peer() + ": " + reader_.error_message());
      case ReplyReader::Status::need_more:
        break;
    }
    const std::size_t n =
        co_await state_->transport.async_read_some(asio::buffer(buffer_), asio::use_awaitable);
    reader_.feed(buffer_.data(), n);
  }
  co_return replies;
}

}  // namespace asyncredis::detail
