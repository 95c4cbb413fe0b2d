// The requests of one connection, from waiting to written to done; no sockets involved.
//
// Waiting requests' bytes accumulate in one buffer; take_batch() hands all of them to the
// writer at once (automatic pipelining) and moves them to the written list, whose front gets
// the next reply. What ends a request (its last reply, an error, a timeout, a cancellation)
// produces a Completion that the caller invokes after the queue is consistent again, so a
// handler may submit the next request straight away.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/reply.hpp"
#include "net/movable_handler.hpp"

namespace asyncredis::detail {

using Clock = std::chrono::steady_clock;

// A finished request: call handler(error, reply).
struct Completion {
  MovableHandler<ReplyHandler> handler;
  std::exception_ptr error;
  Reply reply;
};

class RequestQueue {
 public:
  // Adds a request at the end of the waiting list; returns its id (for cancel()).
  std::uint64_t push(Request&& request, ReplyHandler&& handler, Clock::time_point deadline);

  bool has_waiting() const noexcept { return !waiting_.empty(); }
  std::size_t waiting_count() const noexcept { return waiting_.size(); }
  // Written requests whose replies are still due, abandoned ones (timed out, cancelled)
  // included: their replies must still be read and dropped.
  std::size_t written_count() const noexcept { return written_.size(); }
  bool empty() const noexcept { return waiting_.empty() && written_.empty(); }

  // Moves every waiting request to the written list and their bytes into `out` (replacing
  // its contents, keeping its capacity).
  void take_batch(std::string& out);

  enum class ReplyResult {
    pending,     // the oldest written request expects more replies, or was abandoned
    completed,   // `done` holds the finished request
    unexpected,  // no written request: the server sent a reply nobody asked for
  };
  // One reply, for the oldest written request.
  ReplyResult on_reply(Reply&& reply, Completion& done);

  // The connection broke: written requests fail with `error`, except those marked
  // retry_on_reconnect, which go back to the front of the waiting list, in order.
  void on_connection_lost(const std::exception_ptr& error, std::vector<Completion>& done);

  // Everything fails with `error` (shutdown).
  void fail_all(const std::exception_ptr& error, std::vector<Completion>& done);

  // Requests whose deadline is <= now fail with `error`: waiting ones are removed (never
  // sent), written ones are abandoned (their replies will be dropped).
  void expire(Clock::time_point now, const std::exception_ptr& error,
              std::vector<Completion>& done);

  // Ends request `id` with `error` as expire() would; false if it is already done.
  bool cancel(std::uint64_t id, const std::exception_ptr& error, Completion& done);

  // The earliest deadline of a request that can still time out.
  std::optional<Clock::time_point> earliest_deadline() const;

 private:
  struct Entry {
    std::uint64_t id = 0;
    MovableHandler<ReplyHandler> handler;  // empty once abandoned
    std::uint32_t remaining = 1;           // replies still due
    std::uint32_t total = 1;               // replies the request asks for
    Deliver deliver = Deliver::single;
    std::uint32_t size = 0;  // bytes in waiting_bytes_ while waiting
    Clock::time_point deadline;
    std::vector<Reply> replies;  // collected for Deliver::array
    std::string retry_payload;   // kept only for retry_on_reconnect requests
    bool abandoned() const noexcept { return !handler; }
  };

  static void finish(Entry& entry, std::exception_ptr error, Reply&& reply, Completion& done);
  // Removes waiting_[index] and its bytes.
  void erase_waiting(std::size_t index);

  std::deque<Entry> waiting_;
  std::deque<Entry> written_;
  std::string waiting_bytes_;
  std::uint64_t next_id_ = 1;
};

}  // namespace asyncredis::detail
