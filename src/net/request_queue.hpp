// The requests of one connection, from waiting to written to done; no sockets involved.
//
// Waiting requests' bytes accumulate in one buffer; take_batch() hands all of them to the
// writer at once (automatic pipelining) and moves them to the written list, whose front gets
// the next reply. What ends a request (its last reply, an error, a timeout, a cancellation)
// produces a Completion that the caller invokes after the queue is consistent again, so a
// handler may submit the next request straight away.
//
// Every step is O(1) per request (amortised), whatever the queue holds, so an outage that
// piles up 100k waiting requests costs no more per request than a quiet minute:
// - Requests with the same timeout expire in the order they came. Each timeout in use keeps a
//   cursor at its oldest request not yet expired; expire() walks on from the cursors, never
//   over the whole queue.
// - A waiting request that ends early (timed out, cancelled) leaves its bytes in the buffer,
//   marked dead: take_batch() skips them, and the queue sheds them from the front, or all at
//   once when they outnumber the live ones.
// - A written request that ends early is "given up": its replies are still due and are read
//   and dropped. Until they come, the connection owes them (owes()).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/reply.hpp"
#include "net/movable_handler.hpp"
#include "observe/observation.hpp"

namespace asyncredis::detail {

using Clock = std::chrono::steady_clock;

// A finished request: call handler(error, reply).
struct Completion {
  MovableHandler<ReplyHandler> handler;
  std::exception_ptr error;
  Reply reply;
  std::unique_ptr<Observation> observation;  // set when a CommandObserver watches it
};

struct QueueLimits {
  // Live requests and their bytes waiting to be written. A request bigger than `bytes` is
  // still taken when nothing else waits (it could never be sent otherwise).
  std::size_t requests = std::numeric_limits<std::size_t>::max();
  std::size_t bytes = std::numeric_limits<std::size_t>::max();
  // Decoded replies that pipelines hold while they collect theirs (see memory_of()).
  std::size_t reply_memory = std::numeric_limits<std::size_t>::max();
};

class RequestQueue {
 public:
  explicit RequestQueue(QueueLimits limits = {}) : limits_(limits) {}

  // Adds a request at the end of the waiting list, due `timeout` after `now`; returns its id
  // (for cancel()), or 0, taking nothing (`observation` included), when the limits are
  // reached. `observation` goes with the request into its Completion, counting the bytes of
  // its replies and its retries on the way.
  std::uint64_t push(Request&& request, ReplyHandler&& handler, Clock::time_point now,
                     std::chrono::milliseconds timeout,
                     std::unique_ptr<Observation>&& observation = nullptr);

  bool has_waiting() const noexcept { return live_waiting_ > 0; }
  // Live requests not yet written.
  std::size_t waiting_count() const noexcept { return live_waiting_; }
  // Written requests whose replies are still due, given-up ones included.
  std::size_t written_count() const noexcept { return written_.size(); }
  // Requests whose handlers have not been called yet.
  std::size_t live_count() const noexcept { return live_waiting_ + live_written_; }
  // Nothing live and nothing owed.
  bool empty() const noexcept { return live_count() == 0 && owed_ == 0; }

  // Written requests that ended early (timed out, cancelled) and still owe replies: the
  // server is still working on them (a BLPOP keeps blocking), or their replies are late.
  bool owes() const noexcept { return owed_ > 0; }
  // When the oldest of those was given up (owes() must be true).
  Clock::time_point owed_since() const;

  // Moves every live waiting request to the written list and their bytes into `out`
  // (replacing its contents, keeping its capacity).
  void take_batch(std::string& out);

  enum class ReplyResult {
    pending,     // the oldest written request expects more replies, or was given up
    completed,   // `done` holds the finished request
    unexpected,  // no written request: the server sent a reply nobody asked for
  };
  // One reply, for the oldest written request. A pipeline whose collected replies would pass
  // limits.reply_memory ends with errc::protocol_error; its remaining replies are dropped.
  ReplyResult on_reply(Reply&& reply, Completion& done);

  // The oldest written request, if live, fails with `error` (its reply broke the
  // connection); returns whether there was one.
  bool fail_oldest_written(const std::exception_ptr& error, Completion& done);

  // The connection broke: written requests fail with `error`, except those marked
  // retry_on_reconnect, which go back to the front of the waiting list, in order.
  void on_connection_lost(const std::exception_ptr& error, std::vector<Completion>& done);

  // Every waiting request fails with `error` (nothing has been sent of them).
  void fail_waiting(const std::exception_ptr& error, std::vector<Completion>& done);

  // Everything fails with `error` (shutdown).
  void fail_all(const std::exception_ptr& error, std::vector<Completion>& done);

  // Requests whose deadline is <= now fail with `error`: waiting ones are never sent, written
  // ones are given up (their replies will be dropped).
  void expire(Clock::time_point now, const std::exception_ptr& error,
              std::vector<Completion>& done);

  // Ends request `id` as expire() would; false if it has ended already.
  bool cancel(std::uint64_t id, const std::exception_ptr& error, Completion& done);

  // When expire() next has something to do; nothing when no request can time out. It may be
  // early (the request it was meant for ended otherwise): expire() then finds the next one.
  std::optional<Clock::time_point> earliest_deadline() const;

 private:
  // What only pipelines (replies collected), retryable requests (their bytes kept) and
  // observed ones need: most requests have none, which keeps an Entry small (a deque block
  // holds 8).
  struct Extra {
    std::vector<Reply> replies;  // collected for Deliver::array
    std::size_t replies_memory = 0;
    std::string retry_payload;  // kept only for retry_on_reconnect requests
    std::unique_ptr<Observation> observation;
  };
  struct Entry {
    std::uint64_t seq = 0;  // the id push() returned; written_ then waiting_ ascend by it
    MovableHandler<ReplyHandler> handler;  // empty once the request has ended
    // Until the request ends early, when it times out; once it is given up while written,
    // when that was (the owed reply is late from then on).
    Clock::time_point deadline;
    std::uint32_t remaining = 1;   // replies still due
    std::uint32_t total = 1;       // replies the request asks for
    std::uint32_t size = 0;        // bytes in waiting_bytes_ while waiting
    std::uint32_t timeout_ms = 0;  // its class (see TimeoutClass)
    Deliver deliver = Deliver::single;
    bool written = false;
    std::unique_ptr<Extra> extra;
    bool live() const noexcept { return static_cast<bool>(handler); }
    std::size_t replies_memory() const noexcept { return extra ? extra->replies_memory : 0; }
  };
  // The requests of one timeout value, oldest first by seq (so by deadline too).
  struct TimeoutClass {
    std::uint32_t timeout_ms;
    std::uint64_t cursor = 0;  // seq of its oldest request not yet expired (or later)
    Clock::time_point next_deadline;
  };

  // Hands the entry's handler to `done` with `error` and `reply`; the lists' counts are the
  // caller's to update.
  void take(Entry& entry, std::exception_ptr error, Reply&& reply, Completion& done);
  // Ends a live entry early, wherever it is (a timeout, a cancellation).
  void end_early(Entry& entry, const std::exception_ptr& error, Clock::time_point now,
                 Completion& done);
  void pop_written();
  // Adds a pipeline's reply to what it collects; false when that passes the memory limit.
  bool collect(Entry& entry, Reply&& reply);
  // Walks `cls` on from its cursor, expiring what is due; false when it has no request left.
  bool expire_class(TimeoutClass& cls, Clock::time_point now, const std::exception_ptr& error,
                    std::vector<Completion>& done);
  Entry* find(std::uint64_t seq);
  void shed_dead();

  QueueLimits limits_;
  std::deque<Entry> written_;
  std::deque<Entry> waiting_;
  std::string waiting_bytes_;
  std::size_t waiting_offset_ = 0;  // where waiting_.front()'s bytes start in waiting_bytes_
  std::size_t live_waiting_ = 0;
  std::size_t live_waiting_bytes_ = 0;
  std::size_t dead_waiting_ = 0;
  std::size_t live_written_ = 0;
  std::size_t owed_ = 0;
  std::size_t collected_memory_ = 0;
  std::vector<TimeoutClass> classes_;
  std::uint64_t next_seq_ = 1;
};

}  // namespace asyncredis::detail
