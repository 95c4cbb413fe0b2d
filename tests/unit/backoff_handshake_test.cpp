// Backoff delays and the connection handshake, without sockets.
#include <gtest/gtest.h>

#include <set>

#include "asyncredis/error.hpp"
#include "net/backoff.hpp"
#include "net/handshake.hpp"

namespace asyncredis::detail {
namespace {

using namespace std::chrono_literals;

TEST(Backoff, GrowsExponentiallyWithJitterUpToTheCeiling) {
  Backoff backoff(100ms, 1000ms, 42);
  const std::chrono::milliseconds ceilings[] = {100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
  for (auto ceiling : ceilings) {
    auto delay = backoff.next();
    EXPECT_GE(delay, ceiling / 2);
    EXPECT_LE(delay, ceiling);
  }
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(10ms, 10000ms, 1);
  for (int i = 0; i < 10; ++i) backoff.next();
  backoff.reset();
  EXPECT_LE(backoff.next(), 10ms);
}

TEST(Backoff, JitterSpreadsClients) {
  std::set<long> seen;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    Backoff backoff(1000ms, 1000ms, seed);
    seen.insert(backoff.next().count());
  }
  EXPECT_GT(seen.size(), 10u);
}

TEST(Backoff, NeverOverflowsAfterManyAttempts) {
  Backoff backoff(1ms, 5000ms, 3);
  for (int i = 0; i < 200; ++i) {
    auto d = backoff.next();
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d, 5000ms);
  }
}

TEST(Handshake, PingOnlyWhenNothingElseIsNeeded) {
  RedisSettings s;
  auto h = make_handshake(s, 0);
  EXPECT_EQ(h.request.payload, "*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(h.request.reply_count, 1u);
}

TEST(Handshake, AuthSelectAndName) {
  RedisSettings s;
  s.username = "alice";
  s.password = "p@ss";
  s.client_name = "svc";
  auto h = make_handshake(s, 3);
  EXPECT_EQ(h.request.payload,
            "*3\r\n$4\r\nAUTH\r\n$5\r\nalice\r\n$4\r\np@ss\r\n"
            "*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
            "*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\nsvc\r\n");
  EXPECT_EQ(h.request.reply_count, 3u);
  EXPECT_EQ(h.request.deliver, Deliver::array);
}

TEST(Handshake, PasswordWithoutUser) {
  RedisSettings s;
  s.password = "secret";
  auto h = make_handshake(s, 0);
  EXPECT_EQ(h.request.payload, "*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n");
}

TEST(Handshake, AcceptsOkReplies) {
  RedisSettings s;
  s.password = "x";
  auto h = make_handshake(s, 2);
  EXPECT_NO_THROW(
      check_handshake(h, Reply::array({Reply::simple_string("OK"), Reply::simple_string("OK")})));
}

void expect_error(const Handshake& h, const Reply& replies, errc code, std::string_view text) {
  try {
    check_handshake(h, replies);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(code));
    EXPECT_NE(e.message().find(text), std::string::npos) << e.message();
  }
}

TEST(Handshake, WrongPasswordIsAuthFailed) {
  RedisSettings s;
  s.password = "x";
  auto h = make_handshake(s, 0);
  expect_error(h, Reply::array({Reply::error("WRONGPASS invalid username-password pair")}),
               errc::auth_failed, "WRONGPASS");
}

TEST(Handshake, MissingPasswordIsAuthFailed) {
  RedisSettings s;
  auto h = make_handshake(s, 5);
  expect_error(h, Reply::array({Reply::error("NOAUTH Authentication required.")}),
               errc::auth_failed, "NOAUTH");
}

TEST(Handshake, OtherErrorsNameTheStep) {
  RedisSettings s;
  auto h = make_handshake(s, 99);
  expect_error(h, Reply::array({Reply::error("ERR DB index is out of range")}), errc::server_error,
               "SELECT 99");
}

TEST(Handshake, AnyOtherAnswerIsProtocolError) {
  RedisSettings s;
  expect_error(make_handshake(s, 0), Reply::array({Reply::simple_string("SURPRISE")}),
               errc::protocol_error, "handshake PING: expected +PONG");
  EXPECT_NO_THROW(check_handshake(make_handshake(s, 0), Reply::array({Reply::bulk_string("PONG")})))
      << "a proxy may answer in a bulk string";
  s.client_name = "svc";
  expect_error(make_handshake(s, 3), Reply::array({Reply::simple_string("OK"), Reply::integer(1)}),
               errc::protocol_error, "handshake CLIENT SETNAME: expected +OK");
}

TEST(Handshake, WrongReplyCountIsProtocolError) {
  RedisSettings s;
  auto h = make_handshake(s, 0);
  expect_error(h, Reply::array({}), errc::protocol_error, "expected 1");
}

}  // namespace
}  // namespace asyncredis::detail
