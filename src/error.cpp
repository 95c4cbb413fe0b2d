#include "asyncredis/error.hpp"

namespace asyncredis {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "asyncredis"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::not_connected:
        return "not connected";
      case errc::connection_lost:
        return "connection lost";
      case errc::timeout:
        return "operation timed out";
      case errc::cancelled:
        return "operation cancelled";
      case errc::protocol_error:
        return "protocol error";
      case errc::server_error:
        return "server error";
      case errc::unexpected_type:
        return "unexpected reply type";
      case errc::auth_failed:
        return "authentication failed";
      case errc::invalid_setting:
        return "invalid setting";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::shutting_down:
        return "client is shutting down";
      case errc::tls_error:
        return "TLS error";
      case errc::decode_error:
        return "stored value could not be decoded";
      case errc::overloaded:
        return "overloaded";
      case errc::cross_slot:
        return "keys in different cluster hash slots";
    }
    return "unknown asyncredis error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const Category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

Error::Error(errc code, const std::string& message) : Error(make_error_code(code), message) {}

Error::Error(std::error_code code, const std::string& message)
    : std::system_error(code, message), message_(message) {}

std::error_code error_code_of(const std::exception_ptr& error) noexcept {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const std::system_error& e) {
    return e.code();
  } catch (...) {
    return make_error_code(errc::invalid_argument);
  }
}

std::string error_message_of(const std::exception_ptr& error) {
  if (!error) return {};
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    return e.message();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace asyncredis
