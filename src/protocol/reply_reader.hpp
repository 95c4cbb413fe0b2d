// ReplyReader: bytes from the socket in, Reply values out, in order.
//
// hiredis's redisReader does the parsing and builds Reply trees in place through its object
// callbacks. In front of it, a framing scanner checks every reply before hiredis sees it: the
// server is not trusted, and stock hiredis 0.14 accepts bulk lengths like -5, truncates array
// counts to int and buffers a 4 GiB bulk string as patiently as a 4-byte one.
//
//   reader.feed(buffer.data(), bytes_read);  // once per socket read, then drain:
//   for (Reply reply;;) {
//     const ReplyReader::Status status = reader.next(reply);
//     if (status == ReplyReader::Status::need_more) break;
//     if (status == ReplyReader::Status::error) return fail(reader.error_message());
//     complete_oldest(std::move(reply));
//   }
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

struct ReaderLimits {
  // Wire bytes one reply may take, nested elements included. Also caps what a header may
  // announce: a bulk string longer than this, or an array with more elements than this many
  // bytes could hold, is refused as soon as its header arrives. (With hiredis 0.14, whose
  // buffer arithmetic is int, at most 1 GiB is used whatever the setting.)
  std::size_t max_reply_size = 512u * 1024u * 1024u;
  // Arrays within arrays; a top-level array is depth 1. (hiredis itself parses at most 8 in
  // 0.14 and 1024 in 1.x; the lower limit applies.)
  int max_depth = 64;
};

class ReplyReader {
 public:
  enum class Status {
    reply,      // next() put one complete reply into `out`
    need_more,  // every reply fed so far has been returned; feed more bytes
    error,      // the server sent invalid RESP or exceeded a limit: see error_message()
  };

  explicit ReplyReader(ReaderLimits limits = {});
  ~ReplyReader();
  // A moved-from reader may only be destroyed or assigned to.
  ReplyReader(ReplyReader&&) noexcept;
  ReplyReader& operator=(ReplyReader&&) noexcept;

  // Takes bytes as they came from the socket, split anywhere, and copies them: the first
  // couple of KiB (or the whole of a big reply) straight into hiredis's buffer, the rest of a
  // large read aside first, so that hiredis never holds much unread. Call it once per read,
  // then drain next(). Ignored after an error.
  void feed(const char* data, std::size_t size);

  // Builds the oldest complete reply straight into `out`. Replies that arrived before a
  // protocol error are still returned; after them, error for good (until reset()).
  Status next(Reply& out);

  // Why next() returned error; empty otherwise.
  const std::string& error_message() const noexcept;

  // Bytes fed but not yet returned by next(): complete replies waiting plus the incomplete one
  // (after an error: only the complete replies still waiting).
  std::size_t buffered() const noexcept;

  // Forgets everything fed and any error, as for a new connection; keeps the limits.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace asyncredis::detail
