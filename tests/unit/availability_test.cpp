// is_unavailable(): which failures mean Redis could not serve now (the cache's treat_as_miss
// and the rate limiter's OnUnavailable act on them) and which are errors to report.
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <system_error>

#include "asyncredis/error.hpp"

namespace asyncredis {
namespace {

TEST(Unavailable, ConnectionFailuresAndTransientRepliesAreOutages) {
  for (errc e : {errc::not_connected, errc::connection_lost, errc::timeout, errc::shutting_down,
                 errc::overloaded, errc::protocol_error}) {
    EXPECT_TRUE(is_unavailable(make_error_code(e))) << make_error_code(e).message();
    EXPECT_TRUE(is_unavailable(std::make_exception_ptr(Error(e, "x"))));
  }
  EXPECT_TRUE(is_unavailable(std::make_error_code(std::errc::connection_refused)));
  EXPECT_TRUE(is_unavailable(std::make_exception_ptr(
      std::system_error(std::make_error_code(std::errc::connection_reset)))));
  for (const char* reply :
       {"LOADING Redis is loading the dataset in memory", "BUSY Redis is busy running a script.",
        "MASTERDOWN Link down", "CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys",
        "READONLY You can't write against a read only replica.",
        "OOM command not allowed when used memory > 'maxmemory'."}) {
    EXPECT_TRUE(is_unavailable(make_error_code(errc::server_error), reply)) << reply;
    EXPECT_TRUE(is_unavailable(std::make_exception_ptr(Error(errc::server_error, reply))));
  }
}

TEST(Unavailable, EverythingElseIsAnError) {
  EXPECT_FALSE(is_unavailable(std::error_code()));
  EXPECT_FALSE(is_unavailable(std::exception_ptr()));
  for (errc e : {errc::cancelled, errc::unexpected_type, errc::auth_failed, errc::invalid_setting,
                 errc::invalid_argument, errc::tls_error, errc::decode_error}) {
    EXPECT_FALSE(is_unavailable(make_error_code(e))) << make_error_code(e).message();
  }
  for (const char* reply :
       {"WRONGTYPE Operation against a key holding the wrong kind of value",
        "ERR value is not an integer or out of range", "BUSYKEY Target key name already exists.",
        "NOSCRIPT No matching script", "OOMX", "LOADINGX", ""}) {
    EXPECT_FALSE(is_unavailable(make_error_code(errc::server_error), reply)) << reply;
  }
  EXPECT_FALSE(is_unavailable(std::make_exception_ptr(std::runtime_error("LOADING"))));
}

TEST(Unavailable, ACancellationIsTheCallersNotAnOutage) {
  EXPECT_FALSE(is_unavailable(std::make_error_code(std::errc::operation_canceled)));
  EXPECT_FALSE(is_unavailable(
      std::make_exception_ptr(Error(std::make_error_code(std::errc::operation_canceled), "x"))));
  EXPECT_FALSE(is_unavailable(std::make_exception_ptr(Error(errc::cancelled, "x"))));
}

}  // namespace
}  // namespace asyncredis
