// FrameScanner: the first of ReplyReader's two passes. It walks the RESP2 framing of the bytes
// as they arrive and vets every limit (reply size, nesting, counts, lengths) before hiredis,
// the second pass, sees a byte. Not part of the API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asyncredis::detail {

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
  // 2 KiB (the last slice may end with the start of an incomplete reply).
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
  // What the reply in progress costs against max_reply_: its wire bytes so far plus, for every
  // element whose header (or line) is complete, the Reply it decodes into; its strings are no
  // longer than their wire bytes. So the limit bounds decoded memory too: "+\r\n" elements
  // take some 24 times their wire size once decoded.
  std::size_t charged(std::size_t used) const noexcept;
  std::string too_big() const;

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
  std::size_t elements_ = 0;         // of the reply in progress, headers complete
  std::string error_;
};

}  // namespace asyncredis::detail
