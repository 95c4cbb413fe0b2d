// libFuzzer target for ReplyReader, the one place where bytes from an untrusted server are
// parsed. Every input is read three ways (whole, in pseudo-random chunks, one byte at a time)
// and each result is compared with an independent model of RESP2 and the reader's limits, so
// besides crashes, leaks and undefined behaviour the fuzzer finds wrong replies, replies that
// depend on how the bytes were split, limits that do not hold and errors that do not stick.
//
// Input: byte 0 chooses the limits and the chunking (see Options); the rest is the byte
// stream from the "server". Seeds are in fuzz/corpus/reply_reader/.
#include <hiredis/hiredis.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/reply.hpp"
#include "protocol/reply_memory.hpp"
#include "protocol/reply_reader.hpp"
#include "pubsub/pushed_message.hpp"

namespace {

using asyncredis::Reply;
using asyncredis::detail::ReaderLimits;
using asyncredis::detail::ReplyReader;
using Status = ReplyReader::Status;
// What each element costs against the size limit besides its bytes (what it takes decoded).
constexpr std::uint64_t kOverhead = asyncredis::detail::kReplyOverhead;

// Small limits, so that short inputs reach them: the interesting code is at the boundaries.
// (Each element costs its Reply, ~72 bytes, on top of its bytes: 90 holds one short one, 600
// about seven.)
constexpr std::size_t kSizes[] = {std::size_t{1} << 20, 4096, 600, 90};
constexpr int kDepths[] = {32, 3, 1, 0};

#if HIREDIS_MAJOR >= 1
constexpr int kHiredisMaxDepth = 1024;
#else
constexpr int kHiredisMaxDepth = 8;  // the reader documents that 0.14 parses at most 8
#endif

struct Options {
  ReaderLimits limits;
  int depth_limit = 0;  // what the reader may actually allow
  unsigned chunk_seed = 0;

  explicit Options(unsigned char byte) {
    limits.max_reply_size = kSizes[byte & 3];
    limits.max_depth = kDepths[(byte >> 2) & 3];
    depth_limit = std::min(limits.max_depth, kHiredisMaxDepth);
    chunk_seed = byte >> 4;
  }
};

std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (byte < 0x20 || byte >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string_view g_input;  // for failure reports
const char* g_mode = "";

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\nreply_reader_fuzz: %s\n  mode: %s\n  input: \"%s\"\n", what.c_str(),
               g_mode, printable(g_input).c_str());
  std::abort();
}

// ---- the model ------------------------------------------------------------------------------
//
// A straightforward recursive parser of the whole stream, written from the protocol and the
// reader's documented rules, not from its code: RESP2 types only, canonical decimal numbers
// (no '+', no leading zeros, no "-0"), 64-bit integers, -1 as the only negative length (nil),
// no CR or LF inside status and error lines, bulk payloads followed by exactly CRLF.

// Depth counts every array header on the deepest path, empty ("*0") and nil ("*-1") ones too,
// as ReaderLimits defines it ("a top-level array is depth 1") and as hiredis counts.
struct Parsed {
  enum Kind { complete, invalid, incomplete } kind = complete;
  Reply reply;
  std::size_t end = 0;         // complete: one past the reply
  int depth = 0;               // array headers on the deepest path
  std::uint64_t min_more = 0;  // incomplete: bytes still needed at the very least
  // incomplete: bytes of a header line still being read (type byte, digits, CR) at the end.
  // The reader judges a header, the size limit included, when its line is complete, so an
  // incomplete reply may run past the limit by these bytes (at most 22) until then.
  std::uint64_t open_header = 0;
  // Elements whose header (or whole line) is complete: each costs kOverhead against the size
  // limit on top of its bytes, counted from then on. min_more counts it for those still due.
  std::uint64_t elements = 0;
};

class Model {
 public:
  explicit Model(std::string_view bytes) : bytes_(bytes) {}

  Parsed parse(std::size_t pos) const {
    // The shortest element is "+\r\n".
    if (pos >= bytes_.size()) return incomplete(3 + kOverhead);
    const char type = bytes_[pos++];
    const std::size_t type_pos = pos - 1;
    switch (type) {
      case '+':
      case '-': {
        Parsed parsed = line(type, pos);
        if (parsed.kind == Parsed::incomplete && pos == bytes_.size()) parsed.open_header = 1;
        return parsed;
      }
      case ':':
      case '$':
      case '*':
        break;
      default:
        return invalid();
    }
    std::int64_t value = 0;
    bool has_value = false;
    Parsed header = number(type, pos, value, has_value);
    if (header.kind == Parsed::incomplete) header.open_header = bytes_.size() - type_pos;
    if (!has_value) return header;
    pos = header.end;
    if (type == ':') return done(Reply::integer(value), pos);
    if (value < -1) return invalid();
    if (type == '$') {
      if (value == -1) return done(Reply::nil(), pos);
      return bulk(pos, static_cast<std::uint64_t>(value));
    }
    if (value == -1) return done(Reply::nil(), pos, 1);
    return array(pos, static_cast<std::uint64_t>(value));
  }

 private:
  static Parsed invalid() {
    Parsed out;
    out.kind = Parsed::invalid;
    return out;
  }
  static Parsed incomplete(std::uint64_t min_more, int depth = 0, std::uint64_t elements = 0) {
    Parsed out;
    out.kind = Parsed::incomplete;
    out.min_more = min_more;
    out.depth = depth;
    out.elements = elements;
    return out;
  }
  static Parsed done(Reply reply, std::size_t end, int depth = 0, std::uint64_t elements = 1) {
    Parsed out;
    out.reply = std::move(reply);
    out.end = end;
    out.depth = depth;
    out.elements = elements;
    return out;
  }

  Parsed line(char type, std::size_t pos) const {
    const std::size_t start = pos;
    for (; pos < bytes_.size(); ++pos) {
      if (bytes_[pos] == '\n') return invalid();
      if (bytes_[pos] != '\r') continue;
      if (pos + 1 >= bytes_.size()) return incomplete(1 + kOverhead);
      if (bytes_[pos + 1] != '\n') return invalid();
      std::string text(bytes_.substr(start, pos - start));
      return done(
          type == '+' ? Reply::simple_string(std::move(text)) : Reply::error(std::move(text)),
          pos + 2);
    }
    return incomplete(2 + kOverhead);
  }

  // The number after ':', '$' or '*' and its CRLF; has_value says whether it was complete.
  Parsed number(char type, std::size_t pos, std::int64_t& value, bool& has_value) const {
    has_value = false;
    bool negative = false;
    if (pos < bytes_.size() && bytes_[pos] == '-') {
      negative = true;
      ++pos;
    }
    std::uint64_t magnitude = 0;
    int digits = 0;
    const std::uint64_t limit = static_cast<std::uint64_t>(INT64_MAX) + (negative ? 1 : 0);
    for (; pos < bytes_.size() && bytes_[pos] != '\r'; ++pos) {
      const char c = bytes_[pos];
      if (c < '0' || c > '9') return invalid();
      if (digits == 1 && magnitude == 0) return invalid();  // leading zero
      const auto digit = static_cast<std::uint64_t>(c - '0');
      if (magnitude > (limit - digit) / 10) return invalid();
      magnitude = magnitude * 10 + digit;
      ++digits;
    }
    if (pos >= bytes_.size()) return incomplete((digits == 0 ? 3 : 2) + kOverhead);
    // The header is judged once its line is complete: ":\r" may still become an error either
    // way, and the reader need not say which before the next byte.
    if (pos + 1 >= bytes_.size()) return incomplete(1 + kOverhead);
    if (bytes_[pos + 1] != '\n') return invalid();
    if (digits == 0) return invalid();
    if (negative && magnitude == 0) return invalid();  // "-0"
    if (negative && type != ':' && magnitude != 1) return invalid();
    value =
        negative ? static_cast<std::int64_t>(0 - magnitude) : static_cast<std::int64_t>(magnitude);
    has_value = true;
    Parsed out;
    out.end = pos + 2;
    return out;
  }

  Parsed bulk(std::size_t pos, std::uint64_t length) const {
    const std::size_t available = bytes_.size() - pos;
    if (available < length) return incomplete(length - available + 2, 0, 1);
    const std::size_t after = pos + static_cast<std::size_t>(length);
    for (std::size_t i = 0; i < 2; ++i) {
      if (after + i >= bytes_.size()) return incomplete(2 - i, 0, 1);
      if (bytes_[after + i] != "\r\n"[i]) return invalid();
    }
    return done(Reply::bulk_string(std::string(bytes_.substr(pos, length))), after + 2);
  }

  Parsed array(std::size_t pos, std::uint64_t count) const {
    if (count == 0) return done(Reply::array({}), pos, 1);
    std::vector<Reply> elements;
    int depth = 0;
    std::uint64_t counted = 1;  // the array itself
    for (std::uint64_t i = 0; i < count; ++i) {
      Parsed element = parse(pos);
      if (element.kind == Parsed::invalid) return element;
      depth = std::max(depth, element.depth);
      counted += element.elements;
      if (element.kind == Parsed::incomplete) {
        // Each element still due takes at least 3 bytes ("+\r\n") and its Reply; saturate far
        // above any limit.
        const std::uint64_t rest = count - i - 1;
        const std::uint64_t more = rest > UINT64_MAX / 1024 || element.min_more > UINT64_MAX / 2
                                       ? UINT64_MAX / 2
                                       : element.min_more + (3 + kOverhead) * rest;
        Parsed out = incomplete(more, depth + 1, counted);
        out.open_header = element.open_header;
        return out;
      }
      pos = element.end;
      elements.push_back(std::move(element.reply));
    }
    return done(Reply::array(std::move(elements)), pos, depth + 1, counted);
  }

  std::string_view bytes_;
};

// What the model says the reader must do with the whole stream.
struct Expected {
  std::vector<Reply> replies;  // returned in order
  enum End { need_more, error, either } end = need_more;
  std::size_t buffered = 0;  // at need_more: the bytes of the incomplete reply
};

Expected expect(std::string_view bytes, const Options& options) {
  const Model model(bytes);
  Expected expected;
  const std::size_t max_size = options.limits.max_reply_size;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    Parsed parsed = model.parse(pos);
    if (parsed.kind == Parsed::invalid) {
      expected.end = Expected::error;
      return expected;
    }
    const bool too_deep = parsed.depth > options.depth_limit;
    // Bytes plus kOverhead per element (complete headers only): what the limit bounds.
    const std::uint64_t decoded = parsed.elements * kOverhead;
    if (parsed.kind == Parsed::incomplete) {
      const std::size_t seen = bytes.size() - pos;
      if (too_deep || seen - parsed.open_header + decoded > max_size) {
        expected.end = Expected::error;
      } else if (seen + decoded > max_size) {
        expected.end = Expected::either;  // over by a header still being read
      } else if (parsed.min_more > max_size - seen - decoded) {
        // Bound to exceed the limit: the reader may say so now or once the bytes arrive.
        expected.end = Expected::either;
      }
      expected.buffered = seen;
      return expected;
    }
    if (parsed.end - pos + decoded > max_size || too_deep) {
      expected.end = Expected::error;
      return expected;
    }
    expected.replies.push_back(std::move(parsed.reply));
    pos = parsed.end;
  }
  return expected;
}

// ---- the reader, three ways -----------------------------------------------------------------

struct Outcome {
  std::vector<Reply> replies;
  Status end = Status::need_more;
  std::string error;
  std::size_t buffered = 0;
};

// Takes every reply the reader has, then checks the state it stops in.
void drain(ReplyReader& reader, Outcome& outcome) {
  Reply reply;
  Status status;
  while ((status = reader.next(reply)) == Status::reply)
    outcome.replies.push_back(std::move(reply));
  outcome.end = status;
  if (status == Status::need_more) {
    if (!reader.error_message().empty()) fail("need_more with an error message");
    outcome.buffered = reader.buffered();
    return;
  }
  outcome.error = reader.error_message();
  if (outcome.error.empty()) fail("error without a message");
  // An error is for good: asking again, or feeding a valid reply, changes nothing.
  if (reader.next(reply) != Status::error) fail("a second next() after an error did not fail");
  reader.feed("+OK\r\n", 5);
  if (reader.next(reply) != Status::error) fail("feed() after an error was not ignored");
  if (reader.error_message() != outcome.error) fail("the error message changed");
}

Outcome read_whole(std::string_view bytes, const Options& options) {
  ReplyReader reader(options.limits);
  Outcome outcome;
  reader.feed(bytes.data(), bytes.size());
  drain(reader, outcome);
  // A reset reader is as good as new: the same stream gives the same outcome.
  reader.reset();
  if (!reader.error_message().empty() || reader.buffered() != 0) fail("reset() kept state");
  Outcome again;
  reader.feed(bytes.data(), bytes.size());
  drain(reader, again);
  if (again.replies != outcome.replies || again.end != outcome.end)
    fail("reset() changed the outcome");
  return outcome;
}

// Chunks of 1 to 16 bytes from a small PRNG the input seeds; drained after every feed, as a
// connection does after every read. Moved to a new reader after the first chunk: the reader
// must not hold pointers into itself.
Outcome read_chunked(std::string_view bytes, const Options& options) {
  ReplyReader first(options.limits);
  std::optional<ReplyReader> moved;
  ReplyReader* reader = &first;
  Outcome outcome;
  std::uint32_t state =
      0x9e3779b9u ^ (options.chunk_seed * 0x85ebca6bu) ^ static_cast<std::uint32_t>(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    const std::size_t take = std::min<std::size_t>(1 + (state & 15), bytes.size() - pos);
    reader->feed(bytes.data() + pos, take);
    pos += take;
    if (!moved) {
      moved.emplace(std::move(first));
      reader = &*moved;
    }
    drain(*reader, outcome);
    if (outcome.end == Status::error) return outcome;
  }
  drain(*reader, outcome);
  return outcome;
}

// One byte per feed with nothing drained until the end: many complete replies wait at once.
Outcome read_bytewise(std::string_view bytes, const Options& options) {
  ReplyReader reader(options.limits);
  Outcome outcome;
  for (const char c : bytes) reader.feed(&c, 1);
  drain(reader, outcome);
  return outcome;
}

void check(const Outcome& actual, const Expected& expected) {
  const std::size_t common = std::min(actual.replies.size(), expected.replies.size());
  for (std::size_t i = 0; i < common; ++i) {
    if (actual.replies[i] != expected.replies[i]) {
      fail("reply " + std::to_string(i) + " is " + to_debug_string(actual.replies[i]) +
           ", expected " + to_debug_string(expected.replies[i]));
    }
  }
  const std::size_t count = actual.replies.size();
  if (count != expected.replies.size()) {
    fail(std::to_string(count) + " replies, expected " + std::to_string(expected.replies.size()) +
         " (reader error: '" + actual.error + "')");
  }
  // The framing scanner vets every reply before hiredis builds it, so hiredis never refuses
  // one ("reply parser: ..."): when it does, the two disagree about what is valid RESP.
  if (actual.end == Status::error && actual.error.starts_with("reply parser:")) {
    fail("hiredis refused what the scanner let through: " + actual.error);
  }
  switch (expected.end) {
    case Expected::need_more:
      if (actual.end != Status::need_more) fail("error '" + actual.error + "', expected need_more");
      if (actual.buffered != expected.buffered) {
        fail("buffered() is " + std::to_string(actual.buffered) + ", expected " +
             std::to_string(expected.buffered));
      }
      break;
    case Expected::error:
      if (actual.end != Status::error) fail("need_more, expected an error");
      break;
    case Expected::either:
      break;
  }
}

// Every reply is also what a subscribed connection may be pushed: reading it as a message
// must not crash, and what it gives must be true to the reply (an invalidation's keys are
// the payload array's strings; a flush comes only from a null payload).
void check_as_message(const Reply& reply) {
  using asyncredis::Message;
  std::optional<Message> message = asyncredis::detail::message_of(Reply(reply));
  if (!message) return;
  const std::vector<Reply>& e = reply.elements();
  const bool invalidation = message->kind == Message::Kind::invalidated ||
                            message->kind == Message::Kind::invalidated_all;
  if (invalidation && message->channel != asyncredis::detail::invalidation_channel) {
    fail("an invalidation read from channel " + message->channel);
  }
  if (message->kind == Message::Kind::invalidated_all && !e.back().is_nil()) {
    fail("a flush read from a payload that is not null: " + to_debug_string(reply));
  }
  if (message->kind == Message::Kind::invalidated) {
    const std::vector<Reply>& keys = e.back().elements();
    if (keys.size() != message->keys.size()) fail("an invalidation lost or made up keys");
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (keys[i].str() != message->keys[i]) fail("an invalidation changed key " + keys[i].str());
    }
  }
  if (!invalidation && !message->keys.empty()) fail("keys on a message that is no invalidation");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const Options options(data[0]);
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  g_input = std::string_view(reinterpret_cast<const char*>(data), size);

  const Expected expected = expect(bytes, options);
  g_mode = "whole";
  const Outcome whole = read_whole(bytes, options);
  check(whole, expected);
  // Whatever the model says, no reply returned may take more memory than the limit.
  for (const Reply& reply : whole.replies) {
    if (asyncredis::detail::memory_of(reply) > options.limits.max_reply_size) {
      fail("a reply takes " + std::to_string(asyncredis::detail::memory_of(reply)) +
           " bytes decoded, over the limit of " + std::to_string(options.limits.max_reply_size));
    }
  }
  for (const Reply& reply : whole.replies) check_as_message(reply);
  g_mode = "chunked";
  const Outcome chunked = read_chunked(bytes, options);
  check(chunked, expected);
  g_mode = "bytewise";
  const Outcome bytewise = read_bytewise(bytes, options);
  check(bytewise, expected);
  // Where the model allows either ending, the split must still not matter.
  if (chunked.end != whole.end || bytewise.end != whole.end ||
      chunked.replies.size() != whole.replies.size() ||
      bytewise.replies.size() != whole.replies.size()) {
    fail("the outcome depends on how the bytes were split");
  }
  return 0;
}
