// asyncredis-bench --command pubsub: messages delivered per second through a Subscriber.
//
// A publisher (the client's pooled connection) and a subscriber (its own connection) in one
// process, one channel, 32-byte payloads. At most --inflight messages are published and not
// yet received: each message received lets the next one be published. ops_per_s counts
// messages received.
#include "pubsub.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr const char* kChannel = "bench:channel";

class PubSubLoad {
 public:
  PubSubLoad(asyncredis::RedisClient& client, asyncredis::Subscriber& sub, long requests,
             long inflight)
      : client_(client), sub_(sub), requests_(requests), inflight_(inflight), payload_(32, 'p') {}

  void start() {
    started_ = Clock::now();
    receive();
    publish_more();
  }
  bool done() const { return received_ == requests_; }
  double seconds() const { return std::chrono::duration<double>(finished_ - started_).count(); }
  const std::string& failure() const { return failure_; }

 private:
  void publish_more() {
    while (published_ < requests_ && published_ - received_ < inflight_) {
      ++published_;
      client_.publish(kChannel, payload_, [this](std::exception_ptr e, std::int64_t) {
        if (e) fail(e);
      });
    }
  }

  // Takes the message receive() brings and what else is buffered, then publishes as many
  // as were taken, in one write: the way a consumer that answers messages keeps up.
  void receive() {
    sub_.receive([this](std::exception_ptr e, std::optional<asyncredis::Message> m) {
      if (e || !m) return fail(e);
      do {
        if (m->kind != asyncredis::Message::Kind::message || m->dropped != 0) {
          failure_ = "a message was dropped or the connection was lost";
        }
        if (++received_ == requests_) {
          finished_ = Clock::now();
          sub_.close();
          client_.disconnect([](std::exception_ptr) {});
          return;
        }
      } while ((m = sub_.try_receive()));
      receive();
      publish_more();
    });
  }

  void fail(std::exception_ptr e) {
    if (failure_.empty()) failure_ = e ? asyncredis::error_message_of(e) : "subscriber closed";
    sub_.close();
    client_.disconnect([](std::exception_ptr) {});
  }

  asyncredis::RedisClient& client_;
  asyncredis::Subscriber& sub_;
  const long requests_;
  const long inflight_;
  const std::string payload_;
  long published_ = 0;
  long received_ = 0;
  std::string failure_;
  Clock::time_point started_, finished_;
};

}  // namespace

int pubsub_bench(asyncredis::RedisSettings settings, long requests, long inflight, bool json) {
  asio::io_context io(1);
  settings.max_connections = 1;
  asyncredis::RedisClient client(io.get_executor(), settings);
  // A consumer that keeps up never fills this; one that does not must not go unnoticed.
  asyncredis::Subscriber sub(client, {.max_messages = static_cast<std::size_t>(inflight) + 16});
  PubSubLoad load(client, sub, requests, inflight);
  std::string failure;
  client.connect([&](std::exception_ptr error) {
    if (error) {
      failure = asyncredis::error_message_of(error);
      return;
    }
    sub.subscribe(kChannel, [&](std::exception_ptr error) {
      if (error) {
        failure = asyncredis::error_message_of(error);
        sub.close();
        client.disconnect([](std::exception_ptr) {});
        return;
      }
      load.start();
    });
  });
  io.run();
  if (failure.empty()) failure = load.failure();
  if (!failure.empty() || !load.done()) {
    std::cerr << "asyncredis-bench: " << (failure.empty() ? "did not finish" : failure) << "\n";
    return 1;
  }
  const double secs = load.seconds();
  const double ops = static_cast<double>(requests) / secs;
  if (json) {
    std::cout << nlohmann::json{{"client", "asyncredis"},
                                {"cmd", "PUBSUB"},
                                {"inflight", inflight},
                                {"requests", requests},
                                {"secs", secs},
                                {"ops_per_s", ops},
                                {"errors", 0}}
                     .dump()
              << std::endl;
  } else {
    std::printf(
        "RESULT client=asyncredis cmd=PUBSUB inflight=%ld n=%ld secs=%.6f ops_per_s=%.1f "
        "errors=0\n",
        inflight, requests, secs, ops);
  }
  return 0;
}
