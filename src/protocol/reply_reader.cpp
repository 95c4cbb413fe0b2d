// ReplyReader: a framing scanner that vets each read, then hiredis's redisReader building it.
//
// Why two passes: hiredis bounds nothing (a bulk length of 4 GiB just waits for 4 GiB, and
// nothing limits what one reply may buffer), stock 0.14 does not even check lengths (-5 is
// nil, an array count of 2^32 + 1 is 1), and versions differ in what they accept. The scanner
// walks headers and skips payloads, which costs little next to hiredis's own work; in
// exchange hiredis only ever sees valid bytes, every version behaves the same, and every
// limit holds before memory is spent.
#include "protocol/reply_reader.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

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
// hiredis passes array counts and element indices as int, and line lengths too.
constexpr std::uint64_t kMaxCount = INT_MAX;
constexpr std::uint64_t kMaxLine = std::size_t{1} << 30;
// hiredis gets vetted bytes in slices of about this size, cut at reply ends: each time it
// has consumed 1 KiB it moves its unread bytes to the front, so a whole 64 KiB read would be
// moved some 30 times over. Copying the rest of a read aside once is far cheaper.
constexpr std::size_t kSlice = 2048;
// Unused read buffer hiredis may keep between reads.
constexpr std::size_t kKeptBuffer = 256 * 1024;
// The smallest element on the wire ("+\r\n"): what bounds an honest array count.
constexpr std::uint64_t kMinElementBytes = 3;

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  char text[16];
  std::snprintf(text, sizeof text, byte >= 0x20 && byte < 0x7f ? "0x%02x '%c'" : "0x%02x", byte,
                byte);
  return text;
}

// Walks the RESP2 framing of the bytes as they arrive, across any split, without keeping them.
// A header wholly in the read is taken in one go, a split one byte by byte; payloads are
// skipped, never touched.
class FrameScanner {
 public:
  // A run of bytes to hand hiredis at once, and the replies it completes.
  struct Slice {
    std::size_t bytes = 0;
    std::size_t replies = 0;
  };
  struct Result {
    std::size_t good_end = 0;  // end of the last reply completed in this read
    bool error = false;        // see error(); nothing after good_end may be used
    std::size_t stale = 0;     // on error: bytes of the refused reply from earlier reads
  };

  FrameScanner(std::size_t max_reply, int max_depth)
      : max_reply_(max_reply), max_depth_(max_depth) {}

  // Scans one read and appends its usable bytes to `slices`, cut after a reply about every
  // kSlice bytes (the last slice may end with the start of an incomplete reply).
  Result scan(const char* data, std::size_t size, std::vector<Slice>& slices);
  const std::string& error() const noexcept { return error_; }

 private:
  enum class State { type, line, line_lf, number, number_lf, payload, payload_end };

  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }
  // One element is complete: closes every array it completes. True when the reply is done.
  bool finish_element() {
    state_ = State::type;
    while (!open_.empty()) {
      if (--open_.back() != 0) return false;
      open_.pop_back();
    }
    return true;
  }
  // Reads a whole, ordinary ':', '$' or '*' line at data[pos] in one go; false leaves it to
  // the byte-at-a-time states (split between reads, unusual or malformed: they word errors).
  bool whole_header(const char* data, std::size_t size, std::size_t& pos);
  bool begin(char type);
  bool digit(char c);
  // A ':', '$' or '*' line is complete; `used` is the reply's size so far.
  bool finish_header(std::size_t used, bool& reply_done);
  std::string header_name() const { return std::string("'") + kind_ + "' header"; }

  const std::size_t max_reply_;
  const int max_depth_;
  State state_ = State::type;
  char kind_ = 0;  // the type byte of the header being read
  bool negative_ = false;
  int digits_ = 0;
  std::uint64_t value_ = 0;
  std::uint64_t remaining_ = 0;      // payload bytes still to skip
  std::vector<std::uint64_t> open_;  // elements still due, per open array (<= max_depth)
  std::size_t reply_bytes_ = 0;      // of the reply in progress, from earlier reads
  std::string error_;
};

bool FrameScanner::whole_header(const char* data, std::size_t size, std::size_t& pos) {
  // Locals only: stores to members could alias `data` (char), which would reload every byte.
  const char* const start = data + pos;
  const char* const end = data + size;
  const char type = *start;
  if (type != ':' && type != '$' && type != '*') return false;
  const char* p = start + 1;
  const bool negative = p < end && *p == '-';
  if (negative) ++p;
  const char* const digits = p;
  std::uint64_t value = 0;
  while (p < end && static_cast<unsigned char>(*p - '0') < 10) value = value * 10 + (*p++ - '0');
  const auto count = static_cast<int>(p - digits);
  // At most 18 digits cannot overflow; canonical only (no leading zero, no "-0").
  if (count == 0 || count > 18 || (count > 1 && *digits == '0') || (negative && value == 0) ||
      end - p < 2 || p[0] != '\r' || p[1] != '\n') {
    return false;
  }
  kind_ = type;
  negative_ = negative;
  digits_ = count;
  value_ = value;
  pos += static_cast<std::size_t>(p + 2 - start);
  return true;
}

bool FrameScanner::begin(char type) {
  if (type == '+' || type == '-') {
    state_ = State::line;
    return true;
  }
  if (type == ':' || type == '$' || type == '*') {
    state_ = State::number;
    kind_ = type;
    negative_ = false;
    digits_ = 0;
    value_ = 0;
    return true;
  }
  if (std::string_view(",#_%~>=(!|").find(type) != std::string_view::npos) {
    return fail("RESP3 reply type " + describe_byte(type) + " is not supported");
  }
  return fail("invalid reply type byte " + describe_byte(type));
}

bool FrameScanner::digit(char c) {
  if (c >= '0' && c <= '9') {
    // Canonical decimal only, as hiredis 1.x demands: no leading zeros, no "-0".
    if (digits_ == 1 && value_ == 0) return fail("leading zero in a " + header_name());
    const auto d = static_cast<std::uint64_t>(c - '0');
    const std::uint64_t limit = static_cast<std::uint64_t>(INT64_MAX) + (negative_ ? 1 : 0);
    if (value_ > (limit - d) / 10) return fail("number out of 64-bit range in a " + header_name());
    value_ = value_ * 10 + d;
    ++digits_;
    return true;
  }
  if (c == '-' && digits_ == 0 && !negative_) {
    negative_ = true;
    return true;
  }
  return fail("invalid character " + describe_byte(c) + " in a " + header_name());
}

// Once per header: inlined into scan(), it makes scanning a small reply about a third cheaper.
[[gnu::always_inline]] inline bool FrameScanner::finish_header(std::size_t used, bool& reply_done) {
  reply_done = false;
  if (digits_ == 0) return fail("missing number in a " + header_name());
  if (negative_ && value_ == 0) return fail("\"-0\" in a " + header_name());
  if (used > max_reply_) {
    return fail("reply exceeds the size limit of " + std::to_string(max_reply_) + " bytes");
  }
  const std::size_t allowance = max_reply_ - used;
  if (kind_ == ':') {
    reply_done = finish_element();
    return true;
  }
  // Every array header is a level, empty and nil ones included, as ReaderLimits defines depth
  // and as hiredis counts: 0.14 refuses even "*0" inside 8 arrays, which the scanner must say
  // first (found by fuzz/reply_reader_fuzz.cpp).
  if (kind_ == '*' && open_.size() >= static_cast<std::size_t>(max_depth_)) {
    return fail("arrays nested deeper than " + std::to_string(max_depth_));
  }
  if (negative_) {
    if (value_ != 1) {
      return fail((kind_ == '$' ? "bulk string length -" : "array count -") +
                  std::to_string(value_) + " is invalid (only -1, nil, may be negative)");
    }
    reply_done = finish_element();  // nil bulk string or nil array
    return true;
  }
  if (kind_ == '$') {
    if (value_ > allowance || allowance - value_ < 2) {
      return fail("bulk string of " + std::to_string(value_) +
                  " bytes exceeds the reply size limit of " + std::to_string(max_reply_) +
                  " bytes");
    }
    remaining_ = value_;
    state_ = State::payload;
    return true;
  }
  if (value_ == 0) {  // '*': the empty array
    reply_done = finish_element();
    return true;
  }
  if (value_ > kMaxCount || value_ > allowance / kMinElementBytes) {
    return fail("array of " + std::to_string(value_) +
                " elements cannot fit the reply size limit of " + std::to_string(max_reply_) +
                " bytes");
  }
  open_.push_back(value_);
  state_ = State::type;
  return true;
}

FrameScanner::Result FrameScanner::scan(const char* data, std::size_t size,
                                        std::vector<Slice>& slices) {
  Result result;
  std::size_t pos = 0;
  std::size_t cut = 0;  // where the slice being gathered starts
  Slice slice;
  std::size_t replies = 0;
  const auto close_slice = [&](std::size_t end) {
    slice.bytes = end - cut;
    if (slice.bytes > 0) slices.push_back(slice);
    slice = {};
    cut = end;
  };
  std::size_t reply_start = 0;  // where the reply in progress began in this read
  const auto used = [&] { return reply_bytes_ + (pos - reply_start); };
  const std::size_t carried = reply_bytes_;
  const auto stop = [&](std::string message = {}) {
    if (!message.empty()) error_ = std::move(message);
    result.error = true;
    result.stale = replies == 0 ? carried : 0;
    close_slice(result.good_end);
    return result;
  };
  const auto too_big = [&] {
    return "reply exceeds the size limit of " + std::to_string(max_reply_) + " bytes";
  };
  bool done = false;  // the element just finished completed a reply
  while (pos < size) {
    switch (state_) {
      case State::type:
        if (!whole_header(data, size, pos)) {
          if (!begin(data[pos++])) return stop();
          break;
        }
        if (!finish_header(used(), done)) return stop();
        // A bulk string wholly in this read is skipped at once.
        if (state_ == State::payload && size - pos >= remaining_ + 2 &&
            data[pos + remaining_] == '\r' && data[pos + remaining_ + 1] == '\n') {
          pos += remaining_ + 2;
          done = finish_element();
        }
        break;
      case State::line: {
        const auto* cr = static_cast<const char*>(std::memchr(data + pos, '\r', size - pos));
        const std::size_t end = cr != nullptr ? static_cast<std::size_t>(cr - data) : size;
        // hiredis 1.x refuses these (0.14 would keep them): refuse them on both.
        if (std::memchr(data + pos, '\n', end - pos) != nullptr) {
          return stop("line feed inside a status or error line");
        }
        pos = cr != nullptr ? end + 1 : end;
        if (cr != nullptr) state_ = State::line_lf;
        if (used() > std::min<std::size_t>(max_reply_, kMaxLine)) return stop(too_big());
        break;
      }
      case State::line_lf:
        if (data[pos++] != '\n') return stop("carriage return inside a status or error line");
        if (used() > max_reply_) return stop(too_big());
        done = finish_element();
        break;
      case State::number:
        while (pos < size && data[pos] != '\r') {
          if (!digit(data[pos++])) return stop();
        }
        if (pos < size) {
          ++pos;
          state_ = State::number_lf;
        }
        break;
      case State::number_lf:
        if (data[pos++] != '\n') return stop("'\\r' without '\\n' after a " + header_name());
        if (!finish_header(used(), done)) return stop();
        break;
      case State::payload: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
        pos += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::payload_end;
        break;
      }
      case State::payload_end:  // the "\r\n" after the payload, maybe split between reads
        if (data[pos++] != (remaining_ == 0 ? '\r' : '\n')) {
          return stop(remaining_ == 0 ? "bulk string longer than its announced length"
                                      : "bulk string not ended by \"\\r\\n\"");
        }
        if (remaining_++ == 1) done = finish_element();
        break;
    }
    if (done) {
      done = false;
      ++replies;
      ++slice.replies;
      result.good_end = pos;
      reply_start = pos;
      reply_bytes_ = 0;
      if (pos - cut >= kSlice) close_slice(pos);
    }
  }
  reply_bytes_ = used();
  close_slice(size);
  return result;
}

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
