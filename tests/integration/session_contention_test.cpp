// touch()'s compare-and-set under a writer that changes the session between touch's read and
// its write, every time: a request sink between the repository and the client rewrites the
// session right after each GET of it is answered, deterministically.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "asyncredis/asyncredis.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

const Uuid kAlice = Uuid::parse("1b4e28ba-2fa1-11d2-883f-0016d3cca427");

// Commands over any RequestSink, and the sink a Commands value sends to.
class SinkCommands : public Commands {
 public:
  explicit SinkCommands(detail::RequestSink* sink) : Commands(sink) {}
  explicit SinkCommands(const Commands& commands) : Commands(commands) {}
  detail::RequestSink* sink() const { return sink_; }
};

// Forwards everything to `next`; after the reply to a GET of `key` arrives and before the
// caller sees it, stores another version of `session` (data {"rewrite": n}) and waits for
// that write, so whatever the caller writes next based on its read is stale.
class RewritingSink final : public detail::RequestSink {
 public:
  RewritingSink(detail::RequestSink* next, std::string key, Session session, int rewrites)
      : next_(next), key_(std::move(key)), session_(std::move(session)), left_(rewrites) {
    encode_command(get_payload_, "GET", key_);
  }

  int rewrites_done() const { return done_.load(); }

  void submit(detail::Request&& request, detail::ReplyHandler&& handler) override {
    if (request.payload != get_payload_ || left_ <= 0) {
      next_->submit(std::move(request), std::move(handler));
      return;
    }
    --left_;
    next_->submit(std::move(request),
                  [this, handler = std::move(handler)](std::exception_ptr e, Reply reply) mutable {
                    Session changed = session_;
                    changed.data = {{"rewrite", done_.load() + 1}};
                    detail::Request set;
                    encode_command(set.payload, "SET", key_, encode_session(changed), "KEEPTTL");
                    next_->submit(std::move(set),
                                  [this, e, reply = std::move(reply), handler = std::move(handler)](
                                      std::exception_ptr, Reply) mutable {
                                    ++done_;
                                    std::move(handler)(e, std::move(reply));
                                  });
                  });
  }
  asio::any_io_executor executor() const override { return next_->executor(); }

 private:
  detail::RequestSink* next_;
  std::string key_;
  std::string get_payload_;
  Session session_;
  int left_;
  std::atomic<int> done_{0};
};

class SessionContention : public test::SharedServerTest {};

TEST_F(SessionContention, TouchRetriesOnTheChangedSessionAndKeepsItsData) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const RedisSettings settings = server_->settings();
    RedisClient client(io.get_executor(), settings, settings.session_db);
    co_await client.connect(use_awaitable);
    RedisSessionRepository plain(client);
    const Session s = co_await plain.create(kAlice, 1min, use_awaitable);

    RewritingSink sink(SinkCommands(client).sink(), plain.key_of(s.id), s, 3);
    RedisSessionRepository contended(SinkCommands(&sink), client.get_executor());
    const auto touched = co_await contended.touch(s.id, 2h, use_awaitable);
    EXPECT_EQ(sink.rewrites_done(), 3) << "three reads went stale";
    EXPECT_TRUE(touched.has_value());
    if (!touched) co_return;
    // The fourth attempt applied the touch to the third rewrite, losing nothing.
    EXPECT_EQ(touched->data, nlohmann::json({{"rewrite", 3}}));
    EXPECT_GT(touched->expires_at, s.expires_at + 1h);
    const auto stored = co_await plain.get(s.id, use_awaitable);
    EXPECT_EQ(stored, touched);
    co_await client.disconnect(use_awaitable);
  });
}

TEST_F(SessionContention, TouchGivesUpAfterSixteenConflictsInARow) {
  run_async([](asio::io_context& io) -> asio::awaitable<void> {
    const RedisSettings settings = server_->settings();
    RedisClient client(io.get_executor(), settings, settings.session_db);
    co_await client.connect(use_awaitable);
    RedisSessionRepository plain(client);
    const Session s = co_await plain.create(kAlice, 1min, use_awaitable);

    RewritingSink sink(SinkCommands(client).sink(), plain.key_of(s.id), s, 1000);
    RedisSessionRepository contended(SinkCommands(&sink), client.get_executor());
    try {
      co_await contended.touch(s.id, 2h, use_awaitable);
      ADD_FAILURE() << "touch succeeded against a session rewritten after every read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::timeout)) << e.what();
      EXPECT_NE(e.message().find("16 times in a row"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find(plain.key_of(s.id)), std::string::npos) << e.message();
    }
    EXPECT_EQ(sink.rewrites_done(), 16);
    // Nothing of the touch was written: the expiry is still the created one.
    const auto stored = co_await plain.get(s.id, use_awaitable);
    EXPECT_TRUE(stored.has_value());
    if (stored) EXPECT_EQ(stored->expires_at, s.expires_at);
    co_await client.disconnect(use_awaitable);
  });
}

}  // namespace
}  // namespace asyncredis
