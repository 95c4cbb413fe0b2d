// The HTTP demo's GET /metrics, scraped as Prometheus would: valid text format 0.0.4 (HELP and
// TYPE before every family, cumulative buckets, +Inf equal to _count), and counts that move
// with the requests served. And its logger: the client's connection events on stderr.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "example_process.hpp"
#include "support/redis_server.hpp"
#include "support/wait.hpp"

#ifndef ASYNCREDIS_HTTP_SERVICE
#error "ASYNCREDIS_HTTP_SERVICE must name the http_service executable (tests/CMakeLists.txt)"
#endif

namespace {

using asyncredis::test::Answer;
using asyncredis::test::DemoService;
using asyncredis::test::RedisServer;
using asyncredis::test::send;
using asyncredis::test::wait_until;
namespace http = boost::beast::http;

const std::string ada = "3f2b8c1e-5d4a-4b6f-9e7d-1a2b3c4d5e6f";  // seeded by the service

// A scrape, parsed: each sample's value by its full name with labels, as written
// (`name{a="b",c="d"}`). Every malformed line is a test failure.
struct Scrape {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram

  double value(const std::string& sample) const {
    auto it = samples.find(sample);
    if (it == samples.end()) {
      ADD_FAILURE() << "no sample " << sample;
      return -1;
    }
    return it->second;
  }
};

// The family a sample belongs to: its name without labels, and without the histogram suffixes
// when the family is a histogram.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s = suffix;
    if (name.size() > s.size() && name.ends_with(s)) {
      const std::string base = name.substr(0, name.size() - s.size());
      if (auto it = types.find(base); it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

Scrape parse(const std::string& text) {
  Scrape scrape;
  std::set<std::string> helped;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    if (line.starts_with("# HELP ")) {
      const std::string rest = line.substr(7);
      helped.insert(rest.substr(0, rest.find(' ')));
      continue;
    }
    if (line.starts_with("# TYPE ")) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      EXPECT_TRUE(type == "counter" || type == "gauge" || type == "histogram") << line;
      EXPECT_TRUE(helped.count(name)) << "HELP before TYPE: " << line;
      EXPECT_FALSE(scrape.types.count(name)) << "one TYPE per family: " << line;
      scrape.types[name] = type;
      continue;
    }
    EXPECT_NE(line[0], '#') << line;
    const auto space = line.rfind(' ');
    EXPECT_NE(space, std::string::npos) << line;
    if (space == std::string::npos) continue;
    const std::string sample = line.substr(0, space);
    const std::string name = sample.substr(0, sample.find('{'));
    EXPECT_TRUE(scrape.types.count(family_of(name, scrape.types))) << "TYPE before " << line;
    if (sample.find('{') != std::string::npos) EXPECT_TRUE(sample.ends_with("}")) << line;
    std::size_t used = 0;
    const std::string value = line.substr(space + 1);
    double parsed = std::stod(value, &used);
    EXPECT_EQ(used, value.size()) << line;
    EXPECT_FALSE(scrape.samples.count(sample)) << "one sample per name and labels: " << line;
    scrape.samples[sample] = parsed;
  }
  return scrape;
}

// Checks the histogram of `command`: buckets cumulative, ending in +Inf equal to _count.
void check_histogram(const Scrape& scrape, const std::string& command) {
  const std::string labels = "{command=\"" + command + "\"";
  const std::string bucket = "asyncredis_command_duration_seconds_bucket" + labels + ",le=\"";
  double previous = 0;
  int buckets = 0;
  double last_bound = 0;
  for (const auto& [sample, value] : scrape.samples) {
    if (!sample.starts_with(bucket) || sample.ends_with("+Inf\"}")) continue;
    ++buckets;
    last_bound = std::max(last_bound, std::stod(sample.substr(bucket.size())));
  }
  EXPECT_GE(buckets, 10) << command;
  EXPECT_DOUBLE_EQ(last_bound, 10.0);
  // In order of their bounds, not of the map's text order.
  std::vector<std::pair<double, double>> ordered;
  for (const auto& [sample, value] : scrape.samples) {
    if (sample.starts_with(bucket) && !sample.ends_with("+Inf\"}")) {
      ordered.emplace_back(std::stod(sample.substr(bucket.size())), value);
    }
  }
  std::sort(ordered.begin(), ordered.end());
  for (const auto& [bound, value] : ordered) {
    EXPECT_GE(value, previous) << command << " le=" << bound << ": buckets are cumulative";
    previous = value;
  }
  const double inf = scrape.value(bucket + "+Inf\"}");
  EXPECT_GE(inf, previous);
  EXPECT_EQ(inf, scrape.value("asyncredis_command_duration_seconds_count" + labels + "}"));
  EXPECT_GE(scrape.value("asyncredis_command_duration_seconds_sum" + labels + "}"), 0.0);
}

Scrape scrape(std::uint16_t port) {
  Answer answer = send(port, http::verb::get, "/metrics");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  return parse(answer.raw_body);
}

TEST(HttpServiceMetrics, ScrapesAsPrometheusTextAndCountsMove) {
  RedisServer redis;
  DemoService service(redis, {"--rate-limit", "4", "--rate-window", "3600"});
  const Scrape before = scrape(service.port());
  EXPECT_EQ(before.types.at("asyncredis_command_duration_seconds"), "histogram");
  EXPECT_EQ(before.types.at("asyncredis_pool_connected"), "gauge");
  EXPECT_EQ(before.types.at("demo_rate_limit_decisions_total"), "counter");
  EXPECT_EQ(before.value("asyncredis_pool_connections{client=\"cache\"}"), 10);
  EXPECT_GE(before.value("asyncredis_pool_connected{client=\"sessions\"}"), 1);
  EXPECT_EQ(before.value("demo_rate_limit_decisions_total{decision=\"allowed\"}"), 0)
      << "a scrape is not rate-limited";

  const std::string user = "/users/" + ada;
  EXPECT_EQ(send(service.port(), http::verb::get, user).header("X-Cache"), "MISS");
  EXPECT_EQ(send(service.port(), http::verb::get, user).header("X-Cache"), "HIT");
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 401);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 401);
  EXPECT_EQ(send(service.port(), http::verb::get, "/me").status, 429);

  const Scrape after = scrape(service.port());
  EXPECT_EQ(after.value("demo_rate_limit_decisions_total{decision=\"allowed\"}"), 4);
  EXPECT_EQ(after.value("demo_rate_limit_decisions_total{decision=\"denied\"}"), 1);
  EXPECT_EQ(after.value("asyncredis_cache_hits_total"), 1);
  EXPECT_GE(after.value("asyncredis_cache_misses_total"), 1);
  EXPECT_GE(after.value("asyncredis_cache_sets_total"), 1);
  // Every command name seen has a well-formed histogram; GET (the cache's, the sessions')
  // moved.
  int histograms = 0;
  for (const auto& [sample, value] : after.samples) {
    const std::string prefix = "asyncredis_command_duration_seconds_count{command=\"";
    if (!sample.starts_with(prefix)) continue;
    ++histograms;
    check_histogram(after, sample.substr(prefix.size(), sample.size() - prefix.size() - 2));
  }
  EXPECT_GE(histograms, 2) << "the cache's GET and the rate limiter's script at least";
  EXPECT_GE(after.value("asyncredis_command_duration_seconds_count{command=\"GET\"}"), 2);
  EXPECT_EQ(after.value("asyncredis_command_errors_total{command=\"GET\"}"), 0);

  // The demo's logger told stderr about the connections.
  EXPECT_NE(service.log().find("http_service: redis info: connected node=\""), std::string::npos)
      << service.log();
}

TEST(HttpServiceMetrics, LogsALostRedisConnection) {
  RedisServer redis;
  DemoService service(redis, {"--rate-limit", "1000"});
  redis.stop();
  ASSERT_TRUE(wait_until([&] {
    return service.log().find("redis warning: connection lost") != std::string::npos;
  })) << service.log();
  ASSERT_TRUE(wait_until([&] {
    return service.log().find("redis warning: reconnect failed") != std::string::npos;
  })) << service.log();
  const std::string log = service.log();
  const std::string line = log.substr(log.find("reconnect failed"));
  EXPECT_NE(line.find("reason=\""), std::string::npos) << line;
  EXPECT_NE(line.find("retry_in_ms=\""), std::string::npos) << line;
}

}  // namespace
