// Pump: the write/read stage of a connection, without a socket. Requests go in through its
// queue; it hands the writer the next batch, turns the bytes the reader got into completed
// requests and, on a subscriber's connection, pushed messages.
//
//   pump.queue().push(...);                  // a request
//   if (pump.take_batch(buffer)) write(buffer);
//   switch (pump.on_bytes(data, n, done, pushes)) { ... }  // after each read
//
// A connection in request mode treats a reply nobody asked for as a broken connection; one in
// subscriber mode tells the server's pushed messages (arrays starting with "message",
// "pmessage", "smessage") from the replies to its SUBSCRIBE and PING requests.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "asyncredis/reply.hpp"
#include "net/request_queue.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {

enum class ConnectionMode {
  requests,    // every reply answers a request
  subscriber,  // also messages pushed by the server (SUBSCRIBE was sent on it)
};

// Whether `reply` is pushed on a subscribed connection, not a reply to a request: a message,
// or a shard channel's "sunsubscribe" (which a node also sends unasked).
bool is_pushed_message(const Reply& reply) noexcept;

class Pump {
 public:
  Pump(QueueLimits queue_limits, ReaderLimits reader_limits, ConnectionMode mode);

  RequestQueue& queue() noexcept { return queue_; }
  const RequestQueue& queue() const noexcept { return queue_; }
  ConnectionMode mode() const noexcept { return mode_; }

  // Moves what waits into `out` (one write) unless nothing may go now: nothing waits, or
  // replies are owed to requests given up (what follows them might wait behind a blocking
  // command for good).
  bool take_batch(std::string& out);

  enum class ReadResult {
    ok,
    // The bytes are not RESP, or a reply passed a limit: it belongs to the oldest written
    // request (queue().fail_oldest_written()).
    broken_reply,
    // A reply no request asked for.
    unexpected_reply,
    // `completed` asked to stop (its handler closed the connection).
    stopped,
  };
  // Bytes the socket read. Each request they complete goes to completed(Completion&&) at
  // once, in order (so that what its handler frees is reused by the next reply); it returns
  // false to stop. Pushed messages go to `pushes`. After anything but ok the connection must
  // be dropped; why() says what happened.
  template <class Completed>
  ReadResult on_bytes(const char* data, std::size_t size, Completed&& completed,
                      std::vector<Reply>& pushes) {
    reader_.feed(data, size);
    Completion done;
    for (;;) {
      switch (next(done, pushes)) {
        case Next::completed:
          if (!completed(std::move(done))) return ReadResult::stopped;
          break;
        case Next::pending:
          break;
        case Next::need_more:
          return ReadResult::ok;
        case Next::broken:
          return ReadResult::broken_reply;
        case Next::unexpected:
          return ReadResult::unexpected_reply;
      }
    }
  }
  const std::string& why() const noexcept { return why_; }

  // A new connection: the reader forgets what it was fed.
  void reset_reader() { reader_.reset(); }
  // The reader, for the handshake that precedes the pump's work on each connection.
  ReplyReader& reader() noexcept { return reader_; }

 private:
  enum class Next { completed, pending, need_more, broken, unexpected };
  // One reply from the reader: a request it completes (in `done`), a push, or why not.
  Next next(Completion& done, std::vector<Reply>& pushes);

  RequestQueue queue_;
  ReplyReader reader_;
  Reply reply_;  // reused for every reply read
  const ConnectionMode mode_;
  std::string why_;
};

}  // namespace asyncredis::detail
