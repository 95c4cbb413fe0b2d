// The handshake of a connection over Sentinel: ROLE is asked, and a node in another role than
// the one the settings want (a demoted master, a promoted replica) fails the connect attempt.
#include <gtest/gtest.h>

#include "asyncredis/error.hpp"
#include "net/handshake.hpp"

namespace asyncredis::detail {
namespace {

RedisSettings over_sentinel(bool replicas) {
  RedisSettings s;
  s.password = "pw";
  s.sentinel.sentinels.push_back({"127.0.0.1", 26379});
  s.sentinel.master_name = "mymaster";
  s.sentinel.replicas = replicas;
  return s;
}

Reply role(const char* word) {
  std::vector<Reply> parts;
  parts.push_back(Reply::bulk_string(word));
  parts.push_back(Reply::integer(0));
  return Reply::array(std::move(parts));
}

Reply replies(Reply last) {
  std::vector<Reply> all;
  all.push_back(Reply::simple_string("OK"));  // AUTH
  all.push_back(std::move(last));
  return Reply::array(std::move(all));
}

TEST(SentinelHandshake, AsksRoleAfterAuth) {
  const Handshake h = make_handshake(over_sentinel(false), 0);
  ASSERT_EQ(h.steps.size(), 2u);
  EXPECT_EQ(h.steps[0], "AUTH");
  EXPECT_EQ(h.steps[1], "ROLE master");
  EXPECT_NE(h.request.payload.find("ROLE"), std::string::npos);
  EXPECT_EQ(make_handshake(over_sentinel(true), 0).steps.back(), "ROLE slave");
  RedisSettings plain;
  EXPECT_EQ(make_handshake(plain, 0).steps, std::vector<std::string>{"PING"});
}

TEST(SentinelHandshake, TheRightRolePasses) {
  EXPECT_NO_THROW(
      check_handshake(make_handshake(over_sentinel(false), 0), replies(role("master"))));
  EXPECT_NO_THROW(check_handshake(make_handshake(over_sentinel(true), 0), replies(role("slave"))));
}

TEST(SentinelHandshake, AnotherRoleFailsTheAttempt) {
  try {
    check_handshake(make_handshake(over_sentinel(false), 0), replies(role("slave")));
    ADD_FAILURE() << "a replica passed as the master";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::not_connected));
    EXPECT_NE(e.message().find("is a slave, not a master"), std::string::npos) << e.message();
  }
  EXPECT_THROW(check_handshake(make_handshake(over_sentinel(true), 0), replies(role("master"))),
               Error);
  EXPECT_THROW(
      check_handshake(make_handshake(over_sentinel(false), 0), replies(Reply::simple_string("OK"))),
      Error);
}

}  // namespace
}  // namespace asyncredis::detail
