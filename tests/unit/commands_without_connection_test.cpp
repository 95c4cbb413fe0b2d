// A view without a connection (a default-constructed or released Lease) fails at once with
// errc::not_connected instead of reaching a null sink.
#include <gtest/gtest.h>
#include <boost/asio/use_future.hpp>

#include "asyncredis/client.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {
namespace {

template <class F>
void expect_not_connected(F&& operation) {
  try {
    operation();
    FAIL() << "an operation without a connection must throw";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::not_connected) << e.what();
  }
}

TEST(CommandsWithoutConnection, EveryKindOfOperationThrowsNotConnected) {
  Lease lease;
  ASSERT_FALSE(lease.valid());
  expect_not_connected([&] { (void)lease.get("k", boost::asio::use_future); });
  expect_not_connected(
      [&] { (void)lease.command<long long>("INCR", "k", boost::asio::use_future); });
  expect_not_connected(
      [&] { (void)lease.blpop("q", std::chrono::seconds(1), boost::asio::use_future); });
  Pipeline pipeline;
  pipeline.add("PING");
  expect_not_connected([&] { (void)lease.execute(pipeline, boost::asio::use_future); });
  const Script script("return 1");
  expect_not_connected(
      [&] { (void)lease.eval<long long>(script, "k", 1, boost::asio::use_future); });
  expect_not_connected([&] { (void)lease.scan(); });
  Commands view;
  expect_not_connected(
      [&] { (void)view.with_timeout(std::chrono::seconds(1)).ping(boost::asio::use_future); });
}

}  // namespace
}  // namespace asyncredis
