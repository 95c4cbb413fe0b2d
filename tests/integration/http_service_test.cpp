// The HTTP demo service (examples/http_service), tested over real HTTP against a real
// redis-server: statuses, headers, cookies, cache hits, sessions and the rate limit; and that
// no example program prints the Redis password.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "example_process.hpp"
#include "support/redis_server.hpp"

#ifndef ASYNCREDIS_HTTP_SERVICE
#error "ASYNCREDIS_HTTP_SERVICE must name the http_service executable (tests/CMakeLists.txt)"
#endif
#if !defined(ASYNCREDIS_EXAMPLES_DIR) || !defined(ASYNCREDIS_EXAMPLES)
#error "ASYNCREDIS_EXAMPLES_DIR and ASYNCREDIS_EXAMPLES: set by examples/CMakeLists.txt"
#endif

namespace {

using asyncredis::test::Answer;
using asyncredis::test::ChildProcess;
using asyncredis::test::DemoService;
using asyncredis::test::RedisServer;
using asyncredis::test::send;
namespace http = boost::beast::http;
using namespace std::chrono_literals;
using nlohmann::json;

const std::string ada = "3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f";  // seeded by the service
const std::string alan = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

std::string login_body(const std::string& user) {
  return R"({"user_id": ")" + user + R"("})";
}

// The index of the fixed window the rate limiter counts in now.
long window_index(long window_seconds) {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
             .count() /
         window_seconds;
}

class HttpService : public ::testing::Test {
 protected:
  RedisServer redis_;
};

TEST_F(HttpService, UsersAreCachedAndInvalidatedOnUpdate) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/" + ada;
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.header("X-Cache"), "miss");
  EXPECT_EQ(first.body["name"], "Ada Lovelace");
  EXPECT_GE(first.took, 45ms) << "a miss goes to the slow gateway";
  EXPECT_FALSE(first.header("X-RateLimit-Remaining").empty());

  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("X-Cache"), "hit");
  EXPECT_EQ(second.body, first.body);

  Answer put = send(service.port(), http::verb::put, path,
                    R"({"name": "Ada King", "email": "ada@king.example"})");
  EXPECT_EQ(put.status, 200);
  Answer after = send(service.port(), http::verb::get, path);
  EXPECT_EQ(after.header("X-Cache"), "miss") << "the update invalidated the cached user";
  EXPECT_EQ(after.body["name"], "Ada King");
  EXPECT_EQ(send(service.port(), http::verb::get, path).header("X-Cache"), "hit");

  EXPECT_EQ(send(service.port(), http::verb::put, path, "not json").status, 400);
  EXPECT_EQ(send(service.port(), http::verb::get, "/nowhere").status, 404);
}

TEST_F(HttpService, UnknownUsersAreCachedAsNotFound) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string path = "/users/00000000-0000-4000-8000-000000000000";
  Answer first = send(service.port(), http::verb::get, path);
  EXPECT_EQ(first.status, 404);
  EXPECT_EQ(first.header("X-Cache"), "miss");
  Answer second = send(service.port(), http::verb::get, path);
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.header("X-Cache"), "hit");
}

TEST_F(HttpService, LoginMeLogout) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 401);
  EXPECT_EQ(send(service.port(), http::verb::post, "/login", R"({"user_id": "nope"})").status, 400);

  Answer login = send(service.port(), http::verb::post, "/login", login_body(alan));
  ASSERT_EQ(login.status, 200);
  const std::string cookie = login.session_cookie();
  ASSERT_FALSE(cookie.empty()) << login.header("Set-Cookie");
  EXPECT_NE(login.header("Set-Cookie").find("HttpOnly"), std::string::npos);
  const std::string id = cookie.substr(std::string("session_id=").size());
  // Sessions live in the session database (3), in the seed's format.
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "1");
  json stored = json::parse(redis_.cli({"-n", "3", "GET", "session:" + id}));
  EXPECT_EQ(stored["user_id"], alan);

  Answer me = send(service.port(), http::verb::get, "/me", {}, cookie);
  EXPECT_EQ(me.status, 200);
  EXPECT_EQ(me.body["user_id"], alan);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, "session_id=forged").status, 401);

  Answer logout = send(service.port(), http::verb::post, "/logout", {}, cookie);
  EXPECT_EQ(logout.status, 200);
  EXPECT_NE(logout.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, cookie).status, 401);
  EXPECT_EQ(redis_.cli({"-n", "3", "EXISTS", "session:" + id}), "0");
}

TEST_F(HttpService, LogoutAllRevokesEverySessionOfTheUser) {
  DemoService service(redis_, {"--rate-limit", "1000"});
  const std::string body = login_body(ada);
  const std::string a = send(service.port(), http::verb::post, "/login", body).session_cookie();
  const std::string b = send(service.port(), http::verb::post, "/login", body).session_cookie();
  ASSERT_NE(a, b);
  Answer all = send(service.port(), http::verb::post, "/logout-all", {}, a);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.body["revoked"], 2);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, a).status, 401);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me", {}, b).status, 401);
}

TEST_F(HttpService, RateLimitAnswers429WithHeaders) {
  DemoService service(redis_, {"--rate-limit", "5", "--rate-window", "60"});
  for (int i = 0; i < 5; ++i) {
    Answer allowed = send(service.port(), http::verb::get, "/me");
    EXPECT_EQ(allowed.status, 401);
    EXPECT_EQ(allowed.header("X-RateLimit-Remaining"), std::to_string(4 - i));
    EXPECT_EQ(allowed.header("X-RateLimit-Limit"), "5");
  }
  Answer denied = send(service.port(), http::verb::get, "/me");
  EXPECT_EQ(denied.status, 429);
  EXPECT_EQ(denied.body["detail"], "Rate limit exceeded");
  EXPECT_EQ(denied.header("X-RateLimit-Remaining"), "0");
  EXPECT_FALSE(denied.header("Retry-After").empty());
  EXPECT_GE(std::stoi(denied.header("Retry-After")), 1);
  EXPECT_EQ(denied.header("RateLimit-Policy"), "5;w=60");
  EXPECT_FALSE(denied.header("X-RateLimit-Reset").empty());
  // The counter is the seed's: ratelimit:ip:<address>:<window>, a plain integer.
  const long window = window_index(60);
  std::string count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window)});
  if (count.empty()) {  // the window turned over between the requests and now
    count = redis_.cli({"GET", "ratelimit:ip:127.0.0.1:" + std::to_string(window - 1)});
  }
  EXPECT_GE(std::stoi(count), 6);
}

TEST_F(HttpService, StopsCleanlyOnSigterm) {
  DemoService service(redis_, {});
  EXPECT_EQ(send(service.port(), http::verb::get, "/users/" + ada).status, 200);
  EXPECT_EQ(service.stop(), 0);
  EXPECT_NE(service.log().find("\"GET /users/" + ada + "\" 200"), std::string::npos)
      << "one log line per request:\n"
      << service.log();
}

// ---------------------------------------------------------------------------------------------
// No example program shows the Redis password, whether it connects or is refused.

// Distinctive, with characters url() percent-escapes: absent in both its forms.
const std::string kPassword = "Tr0ub4dor&3:p@ss/w0rd";
const std::string kPasswordMark = "Tr0ub4dor";
const std::string kWrongPassword = "Wr0ngHorse:b@ttery";
const std::string kWrongPasswordMark = "Wr0ngHorse";

std::vector<std::string> example_programs() {
  std::vector<std::string> names;
  std::stringstream list(ASYNCREDIS_EXAMPLES);
  for (std::string name; std::getline(list, name, ',');) names.push_back(name);
  return names;
}

// Runs example `name` to its end with `env`; its exit status and output.
std::pair<int, std::string> run_example(const std::string& name,
                                        const std::map<std::string, std::string>& env) {
  ChildProcess program({std::string(ASYNCREDIS_EXAMPLES_DIR) + "/" + name}, env);
  const auto status = program.wait(60s);
  return {status.value_or(-1), program.output()};
}

class ExamplePrograms : public ::testing::Test {
 protected:
  RedisServer redis_{{.password = kPassword}};
};

TEST_F(ExamplePrograms, PrintNoPassword) {
  const std::string url = redis_.settings().url(0);
  ASSERT_NE(url.find("Tr0ub4dor%263%3Ap%40ss%2Fw0rd"), std::string::npos) << url;
  const auto names = example_programs();
  ASSERT_GE(names.size(), 5u) << ASYNCREDIS_EXAMPLES;
  for (const auto& name : names) {
    const auto [status, output] = run_example(name, {{"REDIS_URL", url}});
    EXPECT_EQ(status, 0) << name << ":\n" << output;
    EXPECT_EQ(output.find(kPasswordMark), std::string::npos) << name << ":\n" << output;
  }
  // The ones that say where they connected say it redacted.
  EXPECT_NE(run_example("quickstart", {{"REDIS_URL", url}}).second.find(":***@127.0.0.1:"),
            std::string::npos);
}

TEST_F(ExamplePrograms, PrintNoPasswordWhenRefused) {
  asyncredis::RedisSettings wrong = redis_.settings();
  wrong.password = kWrongPassword;
  for (const auto& name : example_programs()) {
    const auto [status, output] = run_example(name, {{"REDIS_URL", wrong.url(0)}});
    EXPECT_NE(status, 0) << name << " connected with a wrong password:\n" << output;
    EXPECT_EQ(output.find(kWrongPasswordMark), std::string::npos) << name << ":\n" << output;
  }
}

TEST_F(ExamplePrograms, DemoStartupPrintsNoPassword) {
  {
    DemoService service(redis_, {});
    EXPECT_EQ(send(service.port(), http::verb::get, "/users/" + ada).status, 200);
    EXPECT_EQ(service.stop(), 0);
    EXPECT_NE(service.log().find("(redis redis://:***@127.0.0.1:"), std::string::npos)
        << service.log();
    EXPECT_EQ(service.log().find(kPasswordMark), std::string::npos) << service.log();
  }
  {  // the password from REDIS_PASSWORD rather than the URL
    const std::map<std::string, std::string> env = {
        {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(redis_.port()) + "/0"},
        {"REDIS_PASSWORD", kPassword}};
    DemoService service(redis_, {}, env);
    EXPECT_EQ(service.stop(), 0);
    EXPECT_EQ(service.log().find(kPasswordMark), std::string::npos) << service.log();
  }
  {  // refused: the service exits, and says why without the password
    asyncredis::RedisSettings wrong = redis_.settings();
    wrong.password = kWrongPassword;
    ChildProcess service({ASYNCREDIS_HTTP_SERVICE, "--port", "0"}, {{"REDIS_URL", wrong.url(0)}});
    EXPECT_EQ(service.wait(), 1) << service.output();
    EXPECT_EQ(service.output().find(kWrongPasswordMark), std::string::npos) << service.output();
  }
}

}  // namespace
