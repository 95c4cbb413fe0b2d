// CommandReader: walks the commands of an encoded request (RESP arrays of bulk strings, as
// the encoder writes them), one argument list at a time, without copying.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace asyncredis::detail {

// Whether the argument `arg` is the command name `upper` (given in upper case), in any case.
inline bool is_named(std::string_view arg, std::string_view upper) {
  return arg.size() == upper.size() &&
         std::equal(arg.begin(), arg.end(), upper.begin(), [](char a, char b) {
           return (a >= 'a' && a <= 'z' ? static_cast<char>(a - 32) : a) == b;
         });
}

// A command name in upper case, for messages.
inline std::string upper_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

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
