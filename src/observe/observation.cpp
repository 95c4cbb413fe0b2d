#include "observe/observation.hpp"

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

std::size_t digits(std::uint64_t n) noexcept {
  std::size_t count = 1;
  while (n >= 10) {
    n /= 10;
    ++count;
  }
  return count;
}

// ":<n>\r\n" without its type byte and CRLF.
std::size_t integer_size(std::int64_t n) noexcept {
  const bool negative = n < 0;
  const std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  return digits(magnitude) + (negative ? 1 : 0);
}

// Reads the digits at bytes[pos] up to "\r\n" into `value`; the position after the CRLF, or 0
// if the bytes are not that.
std::size_t read_number(std::string_view bytes, std::size_t pos, std::size_t& value) {
  value = 0;
  const std::size_t start = pos;
  while (pos < bytes.size() && bytes[pos] >= '0' && bytes[pos] <= '9') {
    value = value * 10 + static_cast<std::size_t>(bytes[pos] - '0');
    ++pos;
  }
  if (pos == start || pos + 1 >= bytes.size() || bytes[pos] != '\r' || bytes[pos + 1] != '\n') {
    return 0;
  }
  return pos + 2;
}

}  // namespace

// Called for every observed request: a hand-written scan, no locale-aware toupper.
std::string command_name(const Request& request) {
  if (request.deliver == Deliver::array) return "PIPELINE";
  if (request.deliver == Deliver::last) return "MULTI";
  // "*<n>\r\n$<len>\r\n<NAME>\r\n..."
  const std::string_view bytes = request.bytes();
  std::size_t count = 0, length = 0;
  std::size_t pos = bytes.starts_with('*') ? read_number(bytes, 1, count) : 0;
  if (pos == 0 || pos >= bytes.size() || bytes[pos] != '$') return "?";
  pos = read_number(bytes, pos + 1, length);
  if (pos == 0 || length > bytes.size() - pos) return "?";
  std::string name(bytes.substr(pos, length));
  for (char& c : name) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return name;
}

std::unique_ptr<Observation> observe(CommandObserver& observer, const Request& request,
                                     std::string_view node) {
  auto observation = std::make_unique<Observation>();
  observation->observer = &observer;
  observation->start = std::chrono::steady_clock::now();
  observation->command = command_name(request);
  observation->bytes_out = request.bytes().size();
  observer.on_start(observation->command, node);
  return observation;
}

void report(const Observation& observation, std::string_view node, const std::exception_ptr& error,
            const Reply& reply) noexcept {
  CommandEvent event;
  event.command = observation.command;
  event.node = node;
  event.latency = std::chrono::steady_clock::now() - observation.start;
  if (error) {
    event.error = error_code_of(error);
  } else if (reply.is_error()) {
    event.error = make_error_code(errc::server_error);
  }
  event.bytes_out = observation.bytes_out;
  event.bytes_in = observation.bytes_in;
  event.retries = observation.retries;
  observation.observer->on_end(event);
}

std::size_t wire_size(const Reply& reply) noexcept {
  constexpr std::size_t framing = 3;  // the type byte and the CRLF after the header
  switch (reply.type()) {
    case Reply::Type::nil:
      return 5;  // $-1\r\n
    case Reply::Type::simple_string:
    case Reply::Type::error:
      return framing + reply.str().size();
    case Reply::Type::integer:
      return framing + integer_size(reply.integer());
    case Reply::Type::bulk_string:
      return framing + digits(reply.str().size()) + reply.str().size() + 2;
    case Reply::Type::array: {
      std::size_t total = framing + digits(reply.elements().size());
      for (const Reply& element : reply.elements()) total += wire_size(element);
      return total;
    }
  }
  return 0;
}

}  // namespace asyncredis::detail
