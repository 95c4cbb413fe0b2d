// The optional arguments of the typed commands that take an options struct: SCAN-family
// cursors, ZRANGE, and stream trimming.
#include <string>
#include <vector>

#include "asyncredis/commands/sorted_sets.hpp"
#include "asyncredis/commands/streams.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/scan.hpp"

namespace asyncredis::detail {

std::vector<std::string> cursor_args(std::string_view command, const ScanOptions& options) {
  if (!options.type.empty()) {
    throw Error(errc::invalid_argument, std::string(command) +
                                            ": ScanOptions::type filters SCAN's keys only; "
                                            "leave it empty");
  }
  std::vector<std::string> args;
  if (!options.match.empty()) args.insert(args.end(), {"MATCH", options.match});
  if (options.count != 0) args.insert(args.end(), {"COUNT", std::to_string(options.count)});
  return args;
}

std::vector<std::string> zrange_args(const ZRangeOptions& options, bool with_scores) {
  std::vector<std::string> args;
  if (options.by == ZRangeOptions::By::score) args.emplace_back("BYSCORE");
  if (options.by == ZRangeOptions::By::lex) args.emplace_back("BYLEX");
  if (options.reverse) args.emplace_back("REV");
  if (options.limit.has_value()) {
    args.insert(args.end(), {"LIMIT", std::to_string(options.limit->offset),
                             std::to_string(options.limit->count)});
  }
  if (with_scores) args.emplace_back("WITHSCORES");
  return args;
}

std::vector<std::string> trim_args(const StreamTrim& trim, bool required) {
  const bool by_min_id = !trim.min_id.empty();
  if (trim.max_len.has_value() && by_min_id) {
    throw Error(errc::invalid_argument, "stream trim: set max_len or min_id, not both");
  }
  std::vector<std::string> args;
  if (!trim.max_len.has_value() && !by_min_id) {
    if (required) throw Error(errc::invalid_argument, "XTRIM: set max_len or min_id");
    return args;
  }
  args.emplace_back(by_min_id ? "MINID" : "MAXLEN");
  if (trim.approximate) args.emplace_back("~");
  args.push_back(by_min_id ? trim.min_id : std::to_string(*trim.max_len));
  return args;
}

}  // namespace asyncredis::detail
