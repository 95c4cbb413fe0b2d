// The framing scanner (see frame_scanner.hpp).
#include "protocol/frame_scanner.hpp"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/reply_memory.hpp"

namespace asyncredis::detail {
namespace {

// hiredis passes array counts and element indices as int, and line lengths too.
constexpr std::uint64_t kMaxCount = INT_MAX;
constexpr std::uint64_t kMaxLine = std::size_t{1} << 30;
// hiredis gets vetted bytes in slices of about this size, cut at reply ends: each time it
// has consumed 1 KiB it moves its unread bytes to the front, so a whole 64 KiB read would be
// moved some 30 times over. Copying the rest of a read aside once is far cheaper.
constexpr std::size_t kSlice = 2048;
// The smallest element on the wire ("+\r\n") and once decoded: what bounds an honest array
// count.
constexpr std::uint64_t kMinElementBytes = 3;
constexpr std::uint64_t kMinElementCost = kMinElementBytes + kReplyOverhead;

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  char text[16];
  std::snprintf(text, sizeof text, byte >= 0x20 && byte < 0x7f ? "0x%02x '%c'" : "0x%02x", byte,
                byte);
  return text;
}

}  // namespace

inline std::size_t FrameScanner::charged(std::size_t used) const noexcept {
  return used + elements_ * kReplyOverhead;
}

std::string FrameScanner::too_big() const {
  return "reply exceeds the size limit of " + std::to_string(max_reply_) +
         " bytes (its bytes plus " + std::to_string(kReplyOverhead) +
         " per element, what it takes decoded)";
}

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
  ++elements_;
  const std::size_t cost = charged(used);
  if (cost > max_reply_) return fail(too_big());
  const std::size_t allowance = max_reply_ - cost;
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
  if (value_ > kMaxCount || value_ > allowance / kMinElementCost) {
    return fail("array of " + std::to_string(value_) +
                " elements cannot fit the reply size limit of " + std::to_string(max_reply_) +
                " bytes (each element takes at least " + std::to_string(kMinElementCost) +
                " decoded)");
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
        if (used() > kMaxLine || charged(used()) > max_reply_) return stop(too_big());
        break;
      }
      case State::line_lf:
        if (data[pos++] != '\n') return stop("carriage return inside a status or error line");
        ++elements_;
        if (charged(used()) > max_reply_) return stop(too_big());
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
      elements_ = 0;
      if (pos - cut >= kSlice) close_slice(pos);
    }
  }
  reply_bytes_ = used();
  close_slice(size);
  return result;
}

}  // namespace asyncredis::detail
