// is_unavailable(): which failures mean Redis could not serve now (see error.hpp). The cache's
// treat_as_miss and the rate limiter's OnUnavailable policies both ask it.
#include <array>

#include "asyncredis/error.hpp"

namespace asyncredis {

namespace {

// Error replies of a server that is up but cannot serve right now. A fail-over, a dataset
// still loading, a script hogging the server or a full maxmemory is an outage to the caller.
constexpr std::array<std::string_view, 7> transient_replies = {
    "LOADING", "BUSY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "OOM"};

bool starts_with_word(std::string_view message, std::string_view word) {
  return message.starts_with(word) &&
         (message.size() == word.size() || message[word.size()] == ' ');
}

}  // namespace

bool is_unavailable(std::error_code code, std::string_view message) noexcept {
  if (!code) return false;
  if (code.category() != category()) {
    // Outside our category the code came from the socket layer (refused, reset, ...), except
    // a cancellation, which is the caller's and must reach the caller.
    return code != std::errc::operation_canceled;
  }
  switch (static_cast<errc>(code.value())) {
    case errc::not_connected:
    case errc::connection_lost:
    case errc::timeout:
    case errc::shutting_down:
    case errc::overloaded:
    // Bytes that broke the connection: the server (or what sits between) cannot serve now.
    case errc::protocol_error:
      return true;
    case errc::server_error:
      for (std::string_view word : transient_replies) {
        if (starts_with_word(message, word)) return true;
      }
      return false;
    default:
      return false;
  }
}

bool is_unavailable(const std::exception_ptr& error) noexcept {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return is_unavailable(e.code(), e.message());
  } catch (const std::system_error& e) {
    return is_unavailable(e.code(), e.what());
  } catch (...) {
    return false;
  }
}

}  // namespace asyncredis
