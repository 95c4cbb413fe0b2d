// CommandReader: walks the commands of an encoded request (RESP arrays of bulk strings, as
// the encoder writes them), one argument list at a time, without copying.
#pragma once

#include <charconv>
#include <cstddef>
#include <string_view>
#include <vector>

namespace asyncredis::detail {

// Anything that is not an array of bulk strings ends the walk: the encoder never writes it,
// and the server would refuse it anyway.
class CommandReader {
 public:
  explicit CommandReader(std::string_view payload) : rest_(payload) {}

  // The next command's arguments (name first) into `args`; false at the end.
  bool next(std::vector<std::string_view>& args) {
    args.clear();
    std::size_t count = 0;
    if (!header('*', count)) return false;
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t length = 0;
      if (!header('$', length) || rest_.size() < length + 2) return false;
      args.push_back(rest_.substr(0, length));
      rest_.remove_prefix(length + 2);
    }
    return !args.empty();
  }

  // What is left to read: where the next command starts.
  const char* position() const noexcept { return rest_.data(); }

 private:
  bool header(char type, std::size_t& value) {
    if (rest_.empty() || rest_.front() != type) return false;
    const auto end = rest_.find("\r\n");
    if (end == std::string_view::npos) return false;
    const auto result = std::from_chars(rest_.data() + 1, rest_.data() + end, value);
    if (result.ec != std::errc{} || result.ptr != rest_.data() + end) return false;
    rest_.remove_prefix(end + 2);
    return true;
  }

  std::string_view rest_;
};

}  // namespace asyncredis::detail
