// The parsing of INFO's and CLIENT LIST's text replies.
#include <gtest/gtest.h>

#include <string>

#include "asyncredis/asyncredis.hpp"

namespace asyncredis {
namespace {

TEST(ServerReplies, InfoIsSectionsOfFields) {
  const std::string info =
      "# Server\r\nredis_version:7.0.15\r\nempty:\r\n\r\n# CPU\r\nused:0.5\r\n";
  const ServerInfo parsed = detail::parse_info(info);
  EXPECT_EQ(parsed, (ServerInfo{{"server", {{"redis_version", "7.0.15"}, {"empty", ""}}},
                                {"cpu", {{"used", "0.5"}}}}));
}

TEST(ServerReplies, ClientListIsOneMapPerLine) {
  const std::string clients = "id=3 addr=1.2.3.4:5 name= db=0\nid=4 addr=x:1 name=worker db=1\n";
  const auto list = detail::parse_client_list(clients);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("id"), "3");
  EXPECT_EQ(list[0].at("name"), "");
  EXPECT_EQ(list[1].at("name"), "worker");
  EXPECT_EQ(list[1].at("db"), "1");
  EXPECT_TRUE(detail::parse_client_list("").empty());
}

}  // namespace
}  // namespace asyncredis
