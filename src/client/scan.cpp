// ScanIterator's request building and page reading, and escape_glob.
#include "asyncredis/scan.hpp"

#include "asyncredis/command.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {

std::string escape_glob(std::string_view literal) {
  std::string out;
  out.reserve(literal.size());
  for (char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

detail::Request ScanIterator::make_request() const {
  detail::Request request;
  std::size_t count = 2;
  if (!options_.match.empty()) count += 2;
  if (options_.count != 0) count += 2;
  if (!options_.type.empty()) count += 2;
  detail::append_array_header(request.payload, count);
  detail::append_bulk(request.payload, std::string_view("SCAN"));
  detail::append_bulk(request.payload, cursor_);
  if (!options_.match.empty()) {
    detail::append_bulk(request.payload, std::string_view("MATCH"));
    detail::append_bulk(request.payload, options_.match);
  }
  if (options_.count != 0) {
    detail::append_bulk(request.payload, std::string_view("COUNT"));
    detail::append_bulk_unsigned(request.payload, options_.count);
  }
  if (!options_.type.empty()) {
    detail::append_bulk(request.payload, std::string_view("TYPE"));
    detail::append_bulk(request.payload, options_.type);
  }
  return request;
}

std::optional<std::vector<std::string>> ScanIterator::take_page(Reply&& reply) {
  auto [cursor, keys] = std::move(reply).as<std::pair<std::string, std::vector<std::string>>>();
  cursor_ = std::move(cursor);
  done_ = cursor_ == "0";
  return std::move(keys);
}

}  // namespace asyncredis
