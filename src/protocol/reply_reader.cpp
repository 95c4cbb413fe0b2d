// ReplyReader: a framing scanner (frame_scanner.hpp) that vets each read, then hiredis's
// redisReader building the replies in place.
//
// Why two passes: hiredis bounds nothing (a bulk length of 4 GiB just waits for 4 GiB, and
// nothing limits what one reply may buffer), stock 0.14 does not even check lengths (-5 is
// nil, an array count of 2^32 + 1 is 1), and versions differ in what they accept. The scanner
// walks headers and skips payloads, which costs little next to hiredis's own work; in
// exchange hiredis only ever sees valid bytes, every version behaves the same, and every
// limit holds before memory is spent.
#include "protocol/reply_reader.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "protocol/frame_scanner.hpp"

namespace asyncredis::detail {
namespace {

#if HIREDIS_MAJOR >= 1
constexpr std::size_t kHiredisMaxReply = SIZE_MAX;
constexpr int kHiredisMaxDepth = 1024;  // REDIS_READER_MAX_REPLY_DEPTH (1.1 on)
#else
// 0.14 keeps buffer offsets in int (sdsrange, seekNewline): stay well below 2 GiB in total.
constexpr std::size_t kHiredisMaxReply = std::size_t{1} << 30;
constexpr int kHiredisMaxDepth = 8;  // fixed task stack of 9: "depth > 7" past 8 arrays
#endif
// Unused read buffer hiredis may keep between reads.
constexpr std::size_t kKeptBuffer = 256 * 1024;

// ---- hiredis object callbacks ----------------------------------------------------------------
//
// Replies are built in place: the root goes where the reader points `target`, every element
// into its parent's pre-sized vector. No node is allocated, only the strings and vectors the
// Reply holds anyway. A callback must not throw into C: failure is nullptr, which hiredis turns
// into an "Out of memory" error.

struct Target {
  Reply* root = nullptr;
};

Reply* slot_of(const redisReadTask* task) {
  if (task->parent == nullptr) return static_cast<Target*>(task->privdata)->root;
  auto& siblings = static_cast<Reply*>(task->parent->obj)->elements();
  if (task->idx < 0 || static_cast<std::size_t>(task->idx) >= siblings.size()) return nullptr;
  return &siblings[static_cast<std::size_t>(task->idx)];
}

// Replaces *slot with what `make` returns, constructed right there: assigning would build a
// temporary Reply, move it over and destroy it, which costs more than the reply's own
// allocation. `make` only moves what was allocated before, so it cannot throw.
template <class Make>
Reply* emplace(Reply* slot, Make make) noexcept {
  std::destroy_at(slot);
  return ::new (static_cast<void*>(slot)) Reply(make());
}

void* create_string(const redisReadTask* task, char* data, std::size_t size) noexcept try {
  Reply* slot = slot_of(task);
  if (slot == nullptr) return nullptr;
  std::string text(data, size);
  return emplace(slot, [&] {
    switch (task->type) {
      case REDIS_REPLY_STATUS:
        return Reply::simple_string(std::move(text));
      case REDIS_REPLY_ERROR:
        return Reply::error(std::move(text));
      // What else hiredis calls a string (RESP3 verbatim text, big numbers) is kept as bulk.
      default:
        return Reply::bulk_string(std::move(text));
    }
  });
} catch (...) {
  return nullptr;
}

#if HIREDIS_MAJOR >= 1
void* create_array(const redisReadTask* task, std::size_t count) noexcept try {
#else
void* create_array(const redisReadTask* task, int count) noexcept try {
#endif
  Reply* slot = slot_of(task);
  if (slot == nullptr) return nullptr;
#if HIREDIS_MAJOR < 1
  if (count < 0) return nullptr;
#endif
  // The scanner has seen all `count` elements on the wire already, so this size is honest.
  std::vector<Reply> elements(static_cast<std::size_t>(count));
  return emplace(slot, [&] { return Reply::array(std::move(elements)); });
} catch (...) {
  return nullptr;
}

void* create_integer(const redisReadTask* task, long long value) noexcept {
  Reply* slot = slot_of(task);
  if (slot == nullptr) return nullptr;
  return emplace(slot, [&] { return Reply::integer(value); });
}

void* create_nil(const redisReadTask* task) noexcept {
  Reply* slot = slot_of(task);
  if (slot == nullptr) return nullptr;
  return emplace(slot, [] { return Reply::nil(); });
}

#if HIREDIS_MAJOR >= 1
// RESP3 only; the scanner refuses RESP3, so these are a fallback that keeps the text.
void* create_double(const redisReadTask* task, double, char* text, std::size_t size) noexcept {
  return create_string(task, text, size);
}
void* create_bool(const redisReadTask* task, int value) noexcept {
  return create_integer(task, value != 0 ? 1 : 0);
}
#endif

// Objects live in the caller's Reply, never on their own: nothing to free here.
void free_object(void*) noexcept {}

redisReplyObjectFunctions kFunctions = {
    create_string, create_array, create_integer,
#if HIREDIS_MAJOR >= 1
    create_double,
#endif
    create_nil,
#if HIREDIS_MAJOR >= 1
    create_bool,
#endif
    free_object,
};

}  // namespace

struct ReplyReader::Impl {
  explicit Impl(ReaderLimits limits)
      : limits(limits),
        scanner(std::min(limits.max_reply_size, kHiredisMaxReply),
                std::clamp(limits.max_depth, 0, kHiredisMaxDepth)),
        reader(redisReaderCreateWithFunctions(&kFunctions)) {
    if (reader == nullptr) throw std::bad_alloc();
    reader->privdata = &target;
    // hiredis frees its emptied buffer when it holds more than maxbuf (16 KiB by default),
    // which replies of some tens of KiB would make an allocation per read. A buffer grown
    // by a really big reply is still given back.
    reader->maxbuf = kKeptBuffer;
  }
  ~Impl() { redisReaderFree(reader); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void feed(const char* data, std::size_t size);
  Status next(Reply& out);
  bool hand_over(const char* data, const FrameScanner::Slice& slice);

  ReaderLimits limits;
  FrameScanner scanner;
  redisReader* reader;
  Target target;
  std::size_t complete = 0;  // complete replies in hiredis's buffer, not yet returned
  // Vetted bytes not given to hiredis yet, and how they divide: slices[handed..] in order.
  std::string pending;
  std::size_t pending_pos = 0;
  std::vector<FrameScanner::Slice> slices;
  std::size_t handed = 0;
  bool failed = false;    // once nothing is left to return, next() reports `error`
  std::size_t stale = 0;  // the refused reply's start, still buffered
  std::string error;
};

bool ReplyReader::Impl::hand_over(const char* data, const FrameScanner::Slice& slice) {
  if (redisReaderFeed(reader, data, slice.bytes) != REDIS_OK) {
    failed = true;
    error = std::string("reply parser: ") + reader->errstr;
    return false;
  }
  complete += slice.replies;
  return true;
}

void ReplyReader::Impl::feed(const char* data, std::size_t size) {
  // The whole read is vetted before any of it is copied, so a refused header costs nothing.
  const std::size_t first = slices.size();
  const FrameScanner::Result scanned = scanner.scan(data, size, slices);
  if (scanned.error) {
    failed = true;
    error = scanner.error();
    stale = scanned.stale;
  }
  if (first == slices.size()) return;
  std::size_t offset = 0;
  if (handed == first) {  // nothing waiting: the first slice goes straight to hiredis
    if (!hand_over(data, slices[handed])) return;
    offset = slices[handed++].bytes;
  }
  pending.append(data + offset, (scanned.error ? scanned.good_end : size) - offset);
}

ReplyReader::Status ReplyReader::Impl::next(Reply& out) {
  while (complete == 0 && handed < slices.size()) {
    const FrameScanner::Slice& slice = slices[handed++];
    if (!hand_over(pending.data() + pending_pos, slice)) break;
    pending_pos += slice.bytes;
  }
  if (handed == slices.size() && handed > 0) {  // all handed over: reuse the storage
    slices.clear();
    handed = 0;
    pending.clear();
    pending_pos = 0;
  }
  if (complete == 0) return failed ? Status::error : Status::need_more;
  // Built straight into the caller's Reply: no queue, no intermediate node.
  target.root = &out;
  void* built = nullptr;
  const int rc = redisReaderGetReply(reader, &built);
  target.root = nullptr;
  if (rc != REDIS_OK || built != &out) {
    // Only an allocation failure, or hiredis disagreeing with the scanner, gets here.
    out = Reply();
    failed = true;
    complete = 0;
    slices.clear();
    handed = 0;
    pending.clear();
    pending_pos = 0;
    error = std::string("reply parser: ") + (rc != REDIS_OK ? reader->errstr : "reply incomplete");
    return Status::error;
  }
  --complete;
  return Status::reply;
}

ReplyReader::ReplyReader(ReaderLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

void ReplyReader::feed(const char* data, std::size_t size) {
  if (impl_->failed || size == 0) return;
  try {
    impl_->feed(data, size);
  } catch (const std::bad_alloc&) {
    // The scanner has moved on without hiredis: they no longer agree on where replies are.
    impl_->failed = true;
    impl_->error = "out of memory while reading replies";
  }
}

ReplyReader::Status ReplyReader::next(Reply& out) {
  return impl_->next(out);
}

const std::string& ReplyReader::error_message() const noexcept {
  return impl_->error;
}

std::size_t ReplyReader::buffered() const noexcept {
  // hiredis's buffer and `pending` hold exactly the bytes fed and not yet turned into
  // returned replies, and after an error perhaps the start of the refused one.
  return impl_->reader->len - impl_->reader->pos + impl_->pending.size() - impl_->pending_pos -
         impl_->stale;
}

void ReplyReader::reset() {
  impl_ = std::make_unique<Impl>(impl_->limits);
}

}  // namespace asyncredis::detail
