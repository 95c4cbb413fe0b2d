// ReplyReader: a framing scanner that vets each reply, then hiredis's redisReader building it.
//
// Why two passes: hiredis 0.14 (Debian 12) checks almost nothing (a bulk length of -5 is nil,
// an array count of 2^32 + 1 is 1, a 4 GiB bulk length just waits for 4 GiB), and neither
// version bounds what one reply may buffer. The scanner only walks headers and skips payloads,
// so it costs little next to hiredis's work; in exchange hiredis only ever sees complete,
// valid replies, both versions behave the same, and every limit holds before memory is spent.
#include "protocol/reply_reader.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstring>
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
// Complete replies are handed to hiredis in slices of about this size: hiredis moves its
// unread bytes to the front each time it has consumed 1 KiB, so feeding it a whole 64 KiB
// read would move most of that read once per KiB.
constexpr std::size_t kSlice = 1024;
// The smallest element on the wire ("+\r\n"): what bounds an honest array count.
constexpr std::uint64_t kMinElementBytes = 3;

std::string describe_byte(char c) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(c);
  std::string text = "0x";
  text += kHex[byte >> 4];
  text += kHex[byte & 0xf];
  if (byte >= 0x20 && byte < 0x7f) {
    text += " '";
    text += c;
    text += '\'';
  }
  return text;
}

// Walks the RESP2 framing of the bytes as they arrive, across any split, without keeping them.
class FrameScanner {
 public:
  enum class Step { complete, need_more, error };

  FrameScanner(std::size_t max_reply, int max_depth)
      : max_reply_(max_reply), max_depth_(max_depth) {}

  // Scans data[pos, size), stopping right after the first reply that completes there.
  Step scan(const char* data, std::size_t size, std::size_t& pos);

  std::size_t last_reply_size() const noexcept { return last_size_; }
  std::size_t pending_bytes() const noexcept { return reply_bytes_; }
  const std::string& error() const noexcept { return error_; }

 private:
  enum class State { type, line, line_cr, number, number_lf, payload, payload_cr, payload_lf };

  Step fail(std::string message) {
    error_ = std::move(message);
    return Step::error;
  }
  // After one element: closes every array it completes. True when the whole reply is done.
  bool finish_element() {
    state_ = State::type;
    while (!open_.empty()) {
      if (--open_.back() != 0) return false;
      open_.pop_back();
    }
    return true;
  }
  Step number_digit(char c);
  // A ':', '$' or '*' line is complete; `used` is the reply's size so far.
  Step finish_header(std::size_t used, bool& reply_done);

  const std::size_t max_reply_;
  const int max_depth_;
  State state_ = State::type;
  char kind_ = 0;  // the type byte of the header being read
  bool negative_ = false;
  int digits_ = 0;
  std::uint64_t value_ = 0;
  std::uint64_t remaining_ = 0;  // payload bytes still to skip
  std::uint64_t line_bytes_ = 0;
  std::vector<std::uint64_t> open_;  // elements still due, per open array (<= max_depth)
  std::size_t reply_bytes_ = 0;      // of the reply in progress, up to the last scan()
  std::size_t last_size_ = 0;
  std::string error_;
};

FrameScanner::Step FrameScanner::number_digit(char c) {
  if (c == '-' && digits_ == 0 && !negative_) {
    negative_ = true;
    return Step::need_more;
  }
  if (c < '0' || c > '9') {
    return fail("invalid character " + describe_byte(c) + " in a '" + std::string(1, kind_) +
                "' header");
  }
  // Canonical decimal only, as hiredis 1.x demands: no leading zeros, no "-0".
  if (digits_ == 1 && value_ == 0)
    return fail(std::string("leading zero in a '") + kind_ + "' header");
  const auto digit = static_cast<std::uint64_t>(c - '0');
  const std::uint64_t limit = static_cast<std::uint64_t>(INT64_MAX) + (negative_ ? 1 : 0);
  if (value_ > (limit - digit) / 10) {
    return fail(std::string("number out of 64-bit range in a '") + kind_ + "' header");
  }
  value_ = value_ * 10 + digit;
  ++digits_;
  return Step::need_more;
}

FrameScanner::Step FrameScanner::finish_header(std::size_t used, bool& reply_done) {
  reply_done = false;
  if (digits_ == 0) return fail(std::string("missing number in a '") + kind_ + "' header");
  if (negative_ && value_ == 0) return fail(std::string("\"-0\" in a '") + kind_ + "' header");
  const std::size_t allowance = max_reply_ - std::min(used, max_reply_);
  if (kind_ == ':') {
    reply_done = finish_element();
    return Step::need_more;
  }
  if (negative_) {
    if (value_ != 1) {
      return fail((kind_ == '$' ? "bulk string length -" : "array count -") +
                  std::to_string(value_) + " is invalid (only -1, nil, may be negative)");
    }
    reply_done = finish_element();  // nil bulk string or nil array
    return Step::need_more;
  }
  if (kind_ == '$') {
    if (value_ > allowance || allowance - value_ < 2) {
      return fail("bulk string of " + std::to_string(value_) +
                  " bytes exceeds the reply size limit of " + std::to_string(max_reply_) +
                  " bytes");
    }
    remaining_ = value_;
    state_ = value_ == 0 ? State::payload_cr : State::payload;
    return Step::need_more;
  }
  if (value_ == 0) {  // '*': the empty array
    reply_done = finish_element();
    return Step::need_more;
  }
  if (open_.size() >= static_cast<std::size_t>(max_depth_)) {
    return fail("arrays nested deeper than " + std::to_string(max_depth_));
  }
  if (value_ > kMaxCount || value_ > allowance / kMinElementBytes) {
    return fail("array of " + std::to_string(value_) +
                " elements cannot fit the reply size limit of " + std::to_string(max_reply_) +
                " bytes");
  }
  open_.push_back(value_);
  state_ = State::type;
  return Step::need_more;
}

FrameScanner::Step FrameScanner::scan(const char* data, std::size_t size, std::size_t& pos) {
  const std::size_t start = pos;
  // Bytes of the reply in progress, this call's included.
  const auto used = [&] { return reply_bytes_ + (pos - start); };
  bool done = false;
  while (pos < size && !done) {
    switch (state_) {
      case State::type: {
        const char c = data[pos++];
        if (c == '+' || c == '-') {
          state_ = State::line;
          line_bytes_ = 0;
        } else if (c == ':' || c == '$' || c == '*') {
          state_ = State::number;
          kind_ = c;
          negative_ = false;
          digits_ = 0;
          value_ = 0;
        } else if (std::string_view(",#_%~>=(!|").find(c) != std::string_view::npos) {
          return fail("RESP3 reply type " + describe_byte(c) + " is not supported");
        } else {
          return fail("invalid reply type byte " + describe_byte(c));
        }
        break;
      }
      case State::line: {
        const auto* cr = static_cast<const char*>(std::memchr(data + pos, '\r', size - pos));
        const std::size_t end = cr != nullptr ? static_cast<std::size_t>(cr - data) : size;
        // hiredis 1.x refuses these (0.14 would keep them): refuse them on both.
        if (std::memchr(data + pos, '\n', end - pos) != nullptr) {
          return fail("line feed inside a status or error line");
        }
        line_bytes_ += end - pos;
        pos = end;
        if (cr != nullptr) {
          ++pos;
          state_ = State::line_cr;
        }
        if (line_bytes_ > kMaxLine) return fail("status or error line longer than 1 GiB");
        break;
      }
      case State::line_cr:
        if (data[pos++] != '\n') return fail("carriage return inside a status or error line");
        done = finish_element();
        break;
      case State::number: {
        const char c = data[pos++];
        if (c == '\r') {
          state_ = State::number_lf;
        } else if (number_digit(c) == Step::error) {
          return Step::error;
        }
        break;
      }
      case State::number_lf:
        if (data[pos++] != '\n')
          return fail(std::string("'\\r' without '\\n' after a '") + kind_ + "' header");
        if (finish_header(used(), done) == Step::error) return Step::error;
        break;
      case State::payload: {
        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, size - pos));
        pos += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::payload_cr;
        break;
      }
      case State::payload_cr:
        if (data[pos++] != '\r') return fail("bulk string longer than its announced length");
        state_ = State::payload_lf;
        break;
      case State::payload_lf:
        if (data[pos++] != '\n') return fail("bulk string not ended by \"\\r\\n\"");
        done = finish_element();
        break;
    }
  }
  const std::size_t total = used();
  if (total > max_reply_) {
    return fail("reply exceeds the size limit of " + std::to_string(max_reply_) + " bytes");
  }
  if (done) {
    last_size_ = total;
    reply_bytes_ = 0;
    return Step::complete;
  }
  reply_bytes_ = total;
  return Step::need_more;
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

void* create_string(const redisReadTask* task, char* data, std::size_t size) noexcept try {
  Reply* slot = slot_of(task);
  if (slot == nullptr) return nullptr;
  std::string text(data, size);
  // What else hiredis calls a string (RESP3 verbatim text, big numbers) is kept as bulk.
  *slot = task->type == REDIS_REPLY_STATUS  ? Reply::simple_string(std::move(text))
          : task->type == REDIS_REPLY_ERROR ? Reply::error(std::move(text))
                                            : Reply::bulk_string(std::move(text));
  return slot;
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
  *slot = Reply::array(std::vector<Reply>(static_cast<std::size_t>(count)));
  return slot;
} catch (...) {
  return nullptr;
}

void* create_integer(const redisReadTask* task, long long value) noexcept {
  Reply* slot = slot_of(task);
  if (slot != nullptr) *slot = Reply::integer(value);
  return slot;
}

void* create_nil(const redisReadTask* task) noexcept {
  Reply* slot = slot_of(task);
  if (slot != nullptr) *slot = Reply::nil();
  return slot;
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

// Objects live in the reader's queue, never on their own: nothing to free here.
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
  struct Parsed {
    Reply reply;
    std::size_t size = 0;  // bytes on the wire
  };

  explicit Impl(ReaderLimits limits)
      : limits(limits),
        scanner(std::min(limits.max_reply_size, kHiredisMaxReply),
                std::clamp(limits.max_depth, 0, kHiredisMaxDepth)) {
    open_reader();
  }
  ~Impl() { redisReaderFree(reader); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void open_reader() {
    reader = redisReaderCreateWithFunctions(&kFunctions);
    if (reader == nullptr) throw std::bad_alloc();
    reader->privdata = &target;
  }

  // Hands hiredis data[0, size), which holds the replies waiting in ready[parsed, ready.size())
  // and maybe the start of an incomplete one, and has it build them.
  void parse(const char* data, std::size_t size);
  void feed(const char* data, std::size_t size);

  ReaderLimits limits;
  FrameScanner scanner;
  redisReader* reader = nullptr;
  Target target;
  // Replies not yet returned, oldest at `head`; entries from `parsed` on are scanned but not
  // yet built by hiredis.
  std::vector<Parsed> ready;
  std::size_t head = 0;
  std::size_t parsed = 0;
  std::size_t ready_bytes = 0;
  bool failed = false;
  std::string error;
};

void ReplyReader::Impl::parse(const char* data, std::size_t size) {
  if (size == 0) return;
  if (redisReaderFeed(reader, data, size) != REDIS_OK) {
    failed = true;
    error = std::string("reply parser: ") + reader->errstr;
    return;
  }
  for (; parsed < ready.size(); ++parsed) {
    target.root = &ready[parsed].reply;
    void* built = nullptr;
    const int rc = redisReaderGetReply(reader, &built);
    if (rc != REDIS_OK || built != target.root) {
      // Only an allocation failure or hiredis disagreeing with the scanner gets here.
      failed = true;
      error =
          std::string("reply parser: ") + (rc != REDIS_OK ? reader->errstr : "reply incomplete");
      for (std::size_t i = parsed; i < ready.size(); ++i) ready_bytes -= ready[i].size;
      ready.resize(parsed);
      return;
    }
  }
}

void ReplyReader::Impl::feed(const char* data, std::size_t size) {
  std::size_t pos = 0;
  std::size_t slice = 0;         // start of the bytes not yet given to hiredis
  std::size_t complete_end = 0;  // end of the last reply completed in this call
  while (pos < size) {
    switch (scanner.scan(data, size, pos)) {
      case FrameScanner::Step::complete:
        ready.push_back({Reply(), scanner.last_reply_size()});
        ready_bytes += scanner.last_reply_size();
        complete_end = pos;
        if (pos - slice >= kSlice) {
          parse(data + slice, pos - slice);
          if (failed) return;
          slice = pos;
        }
        break;
      case FrameScanner::Step::need_more:
        break;
      case FrameScanner::Step::error:
        // The replies completed before the bad one are still delivered; hiredis never sees
        // a byte of the bad one from this call.
        if (complete_end > slice) parse(data + slice, complete_end - slice);
        failed = true;
        if (error.empty()) error = scanner.error();
        return;
    }
  }
  parse(data + slice, size - slice);
}

ReplyReader::ReplyReader(ReaderLimits limits) : impl_(std::make_unique<Impl>(limits)) {}
ReplyReader::~ReplyReader() = default;
ReplyReader::ReplyReader(ReplyReader&&) noexcept = default;
ReplyReader& ReplyReader::operator=(ReplyReader&&) noexcept = default;

void ReplyReader::feed(const char* data, std::size_t size) {
  Impl& impl = *impl_;
  if (impl.failed || size == 0) return;
  try {
    impl.feed(data, size);
  } catch (const std::bad_alloc&) {
    // Only the queue can throw here; what it holds is no longer in step with hiredis.
    impl.failed = true;
    impl.error = "out of memory while reading replies";
  }
}

ReplyReader::Status ReplyReader::next(Reply& out) {
  Impl& impl = *impl_;
  if (impl.head < impl.parsed) {
    Impl::Parsed& entry = impl.ready[impl.head];
    out = std::move(entry.reply);
    impl.ready_bytes -= entry.size;
    if (++impl.head == impl.ready.size()) {
      // Keep the queue's storage for the next read, unless a burst made it large.
      constexpr std::size_t kKeptCapacity = 4096;
      if (impl.ready.capacity() > kKeptCapacity) {
        impl.ready = {};
      } else {
        impl.ready.clear();
      }
      impl.head = 0;
      impl.parsed = 0;
    }
    return Status::reply;
  }
  return impl.failed ? Status::error : Status::need_more;
}

const std::string& ReplyReader::error_message() const noexcept {
  return impl_->error;
}

std::size_t ReplyReader::buffered() const noexcept {
  return impl_->ready_bytes + impl_->scanner.pending_bytes();
}

void ReplyReader::reset() {
  impl_ = std::make_unique<Impl>(impl_->limits);
}

}  // namespace asyncredis::detail
