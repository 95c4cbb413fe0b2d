// KeyBuilder: golden vectors pin the encoding (computed independently from the format spec in
// key_builder.hpp), type distinctions, map and set ordering, Unicode, custom types.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "asyncredis/cache/key_builder.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {
namespace {

struct User {
  std::string name;
  int age = 0;
  friend void to_json(nlohmann::json& j, const User& u) { j = {{"name", u.name}, {"age", u.age}}; }
};

enum class Color { red = 1, green = 2 };

// A type whose JSON form is itself a key: building it nests one key build in another.
struct KeyedThing {
  int id = 0;
  friend void to_json(nlohmann::json& j, const KeyedThing& t) { j = KeyBuilder("inner")(t.id); }
};

TEST(KeyBuilder, GoldenVectors) {
  // Any change here changes every key in every deployed cache: bump the format instead.
  EXPECT_EQ(KeyBuilder::digest(),
            "3f2b9739dd51749140d9b3066beee40b88e20ffd16f414c44303751402b09ea3");
  EXPECT_EQ(KeyBuilder("user")(42),
            "user:97c98dd07d63efe6ad7d52c0f9ffdbab8a2febd43503c4a5949a573fe0e800e7");
  EXPECT_EQ(KeyBuilder::digest(1),
            "c2274cbf440db989fa207b789e1047d9b41224b755b1753efca3fb6b8aa0ab7e");
  EXPECT_EQ(KeyBuilder::digest(1.0),
            "7590dcad71cc44eab5563e405829972af0844dbdbdced3033472652ed86caf41");
  EXPECT_EQ(KeyBuilder::digest("1"),
            "a59d92b373ae0525f5a4d1b609489d099c9c3c7487e2617605fc9fdfb67643af");
  EXPECT_EQ(KeyBuilder::digest("a", 1, true),
            "7cf77b4984c52835f0721dd5381948d242eebd7ee5892fda67596470c98b8093");
  EXPECT_EQ(KeyBuilder::digest(std::map<std::string, int>{{"b", 2}, {"a", 1}}),
            "d5aba231c75b74ee4bbda90d4367e93cea72bdc617bb474214ae75be29c74e7c");
  EXPECT_EQ(KeyBuilder::digest(nullptr),
            "edab22eec2ae9d343a53e69ee0967390bc0aa3c3a0a1443885f1a038f3d623ed");
  EXPECT_EQ(KeyBuilder::digest(std::vector<int>{1, 2, 3}),
            "206f21619e9b1cb11ad6b14a70481362fbabb239b6b06f704ea6de9cd97ae00d");
  EXPECT_EQ(KeyBuilder::digest("caf\u00e9 \U0001F600"),
            "f8c262ea5c5551fa1fada34327e7ba51f63a7736625718986593fa75a38bec42");
  EXPECT_EQ(KeyBuilder::digest(User{"ada", 36}),
            "0683c7ab616ce136b3940e7c99c364944c3656c03138b861dc4b114f3aa5c41e");
  EXPECT_EQ(KeyBuilder::digest(9223372036854775808ull),
            "ffeaceea1e5310b989a21dca0ed2af7e312b83ac9163da415f98bd62d70a9802");
  EXPECT_EQ(KeyBuilder::digest(-5, -2.5f),
            "672500589d0e991eaf48ddd5a7aa4d5b8f8602b0f852885c348da7bd22039e75");
  EXPECT_EQ(KeyBuilder::digest(std::set<int>{3, 1, 2}),
            "0d85a5c46b1f8e6efd7762bffbf36652a3e258ffd311f735e24345267bc9c1e0");
  EXPECT_EQ(KeyBuilder::digest(std::vector<std::byte>{std::byte{0x00}, std::byte{0xff}}),
            "06b389af074122f2c01991925de9c94dd182ea94d4412ddce39a458425dde6ab");
  EXPECT_EQ(KeyBuilder::digest(std::pair<std::string, int>{"x", 7}),
            "526f64054a3d5cd7baf30d75bf1783bfc941f0e04e1f5521b728619a1013469d");
}

TEST(KeyBuilder, EncodingBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(KeyBuilder::encode(), "A\0\0\0\0\0\0\0\0"s);
  EXPECT_EQ(KeyBuilder::encode(258), "A\0\0\0\0\0\0\0\1i\0\0\0\0\0\0\1\2"s);
  EXPECT_EQ(KeyBuilder::encode(-1), "A\0\0\0\0\0\0\0\1i\xff\xff\xff\xff\xff\xff\xff\xff"s);
  EXPECT_EQ(KeyBuilder::encode("ab"), "A\0\0\0\0\0\0\0\1s\0\0\0\0\0\0\0\2ab"s);
  EXPECT_EQ(KeyBuilder::encode(false), "A\0\0\0\0\0\0\0\1b\0"s);
  EXPECT_EQ(KeyBuilder::encode(1.0), "A\0\0\0\0\0\0\0\1f\x3f\xf0\0\0\0\0\0\0"s);
}

TEST(KeyBuilder, KeyShape) {
  const std::string key = KeyBuilder("user:v2")(7, "x");
  ASSERT_EQ(key.size(), std::string("user:v2:").size() + 64);
  EXPECT_TRUE(key.starts_with("user:v2:"));
  for (char c : key.substr(8)) EXPECT_TRUE(std::isxdigit(c) && !std::isupper(c)) << key;
  EXPECT_EQ(KeyBuilder()(7, "x"), KeyBuilder::digest(7, "x")) << "no ':' without a prefix";
  EXPECT_EQ(KeyBuilder("p").prefix(), "p");
}

TEST(KeyBuilder, TypesAreDistinguished) {
  const std::set<std::string> keys = {
      KeyBuilder::digest(1),
      KeyBuilder::digest(1.0),
      KeyBuilder::digest("1"),
      KeyBuilder::digest(true),
      KeyBuilder::digest(nullptr),
      KeyBuilder::digest(std::vector<int>{1}),
      KeyBuilder::digest(std::set<int>{1}),
      KeyBuilder::digest(std::map<int, int>{{1, 1}}),
      KeyBuilder::digest(std::vector<std::byte>{std::byte{'1'}}),
      KeyBuilder::digest(0),
      KeyBuilder::digest(false),
      KeyBuilder::digest(""),
      KeyBuilder::digest(std::vector<int>{}),
  };
  EXPECT_EQ(keys.size(), 13u);
}

TEST(KeyBuilder, ArgumentBoundariesAreUnambiguous) {
  EXPECT_NE(KeyBuilder::digest("ab", "c"), KeyBuilder::digest("a", "bc"));
  EXPECT_NE(KeyBuilder::digest("a", "b"), KeyBuilder::digest(std::vector<std::string>{"a", "b"}));
  EXPECT_NE(KeyBuilder::digest(1, 2), KeyBuilder::digest(12));
  EXPECT_NE(KeyBuilder::digest(std::vector<std::vector<int>>{{1}, {2}}),
            KeyBuilder::digest(std::vector<std::vector<int>>{{1, 2}}));
  EXPECT_NE(KeyBuilder::digest(), KeyBuilder::digest(nullptr));
}

TEST(KeyBuilder, SameValueSameKeyAcrossTypes) {
  const std::string one = KeyBuilder::digest(1);
  EXPECT_EQ(KeyBuilder::digest(short{1}), one);
  EXPECT_EQ(KeyBuilder::digest(1L), one);
  EXPECT_EQ(KeyBuilder::digest(1ULL), one);
  EXPECT_EQ(KeyBuilder::digest(std::uint8_t{1}), one);
  EXPECT_EQ(KeyBuilder::digest(nlohmann::json(1)), one);
  EXPECT_EQ(KeyBuilder::digest(nlohmann::json(1u)), one);
  EXPECT_EQ(KeyBuilder::digest(std::optional<int>(1)), one);
  EXPECT_EQ(KeyBuilder::digest(1.5f), KeyBuilder::digest(1.5));
  EXPECT_EQ(KeyBuilder::digest(-0.0), KeyBuilder::digest(0.0));
  EXPECT_EQ(KeyBuilder::digest(std::nan("1")), KeyBuilder::digest(-std::nan("2")));
  EXPECT_NE(KeyBuilder::digest(-1), KeyBuilder::digest(18446744073709551615ull));

  const std::string text = KeyBuilder::digest("abc");
  EXPECT_EQ(KeyBuilder::digest(std::string("abc")), text);
  EXPECT_EQ(KeyBuilder::digest(std::string_view("abc")), text);
  EXPECT_EQ(KeyBuilder::digest(nlohmann::json("abc")), text);
  EXPECT_EQ(KeyBuilder::digest('a'), KeyBuilder::digest("a"));

  EXPECT_EQ(KeyBuilder::digest(std::optional<int>()), KeyBuilder::digest(nullptr));
  EXPECT_EQ(KeyBuilder::digest(std::nullopt), KeyBuilder::digest(nlohmann::json(nullptr)));

  const std::string seq = KeyBuilder::digest(std::vector<int>{1, 2});
  EXPECT_EQ(KeyBuilder::digest(std::list<long>{1, 2}), seq);
  EXPECT_EQ(KeyBuilder::digest(std::array<int, 2>{1, 2}), seq);
  EXPECT_EQ(KeyBuilder::digest(std::tuple<int, int>{1, 2}), seq);
  EXPECT_EQ(KeyBuilder::digest(nlohmann::json::array({1, 2})), seq);
}

TEST(KeyBuilder, MapAndSetOrderDoesNotMatter) {
  std::unordered_map<std::string, int> a;
  std::unordered_map<std::string, int> b;
  for (int i = 0; i < 100; ++i) a.emplace("k" + std::to_string(i), i);
  for (int i = 99; i >= 0; --i) b.emplace("k" + std::to_string(i), i);
  std::map<std::string, int> ordered(a.begin(), a.end());
  EXPECT_EQ(KeyBuilder::digest(a), KeyBuilder::digest(b));
  EXPECT_EQ(KeyBuilder::digest(a), KeyBuilder::digest(ordered));
  EXPECT_EQ(KeyBuilder::digest(ordered), KeyBuilder::digest(nlohmann::json(ordered)))
      << "a JSON object encodes as a map";

  std::unordered_set<int> s1{5, 1, 9, 3};
  std::unordered_set<int> s2{3, 9, 1, 5};
  EXPECT_EQ(KeyBuilder::digest(s1), KeyBuilder::digest(s2));
  EXPECT_EQ(KeyBuilder::digest(s1), KeyBuilder::digest(std::set<int>{1, 3, 5, 9}));

  // Nested: a map of maps, and the same JSON object built in another order.
  nlohmann::json x = nlohmann::json::parse(R"({"b": {"y": 1, "x": [1, 2]}, "a": null})");
  nlohmann::json y = nlohmann::json::parse(R"({"a": null, "b": {"x": [1, 2], "y": 1}})");
  EXPECT_EQ(KeyBuilder::digest(x), KeyBuilder::digest(y));
  nlohmann::json z = nlohmann::json::parse(R"({"a": null, "b": {"x": [2, 1], "y": 1}})");
  EXPECT_NE(KeyBuilder::digest(x), KeyBuilder::digest(z)) << "arrays keep their order";

  EXPECT_NE(KeyBuilder::digest(std::map<std::string, int>{{"a", 1}}),
            KeyBuilder::digest(std::map<std::string, int>{{"a", 2}}));
}

TEST(KeyBuilder, Unicode) {
  const std::string composed = "caf\xc3\xa9";     // U+00E9
  const std::string decomposed = "cafe\xcc\x81";  // e + U+0301
  EXPECT_NE(KeyBuilder::digest(composed), KeyBuilder::digest(decomposed))
      << "strings are hashed byte for byte, without normalisation";
  EXPECT_EQ(KeyBuilder::digest(std::u8string(u8"caf\u00e9")), KeyBuilder::digest(composed));
  EXPECT_EQ(KeyBuilder::digest(u8"caf\u00e9"), KeyBuilder::digest(composed));
  EXPECT_EQ(KeyBuilder::digest(nlohmann::json(composed)), KeyBuilder::digest(composed));
  EXPECT_EQ(KeyBuilder("\xe7\x94\xa8\xe6\x88\xb7")(1).substr(0, 7), "\xe7\x94\xa8\xe6\x88\xb7:");
  // Embedded NUL bytes are data, not terminators.
  EXPECT_NE(KeyBuilder::digest(std::string("a\0b", 3)), KeyBuilder::digest(std::string("a")));
}

TEST(KeyBuilder, CustomTypesHashThroughTheirJson) {
  EXPECT_EQ(KeyBuilder::digest(User{"ada", 36}),
            KeyBuilder::digest(nlohmann::json{{"age", 36}, {"name", "ada"}}));
  EXPECT_NE(KeyBuilder::digest(User{"ada", 36}), KeyBuilder::digest(User{"ada", 37}));
  EXPECT_EQ(KeyBuilder::digest(std::vector<User>{{"a", 1}}),
            KeyBuilder::digest(nlohmann::json::array({{{"name", "a"}, {"age", 1}}})));
  EXPECT_EQ(KeyBuilder::digest(Color::green), KeyBuilder::digest(2));
}

TEST(KeyBuilder, NestedKeyBuildsDoNotShareABuffer) {
  const std::string inner = KeyBuilder("inner")(7);
  EXPECT_EQ(KeyBuilder("outer")(1, KeyedThing{7}, 2), KeyBuilder("outer")(1, inner, 2));
  EXPECT_EQ(KeyBuilder::digest(KeyedThing{7}), KeyBuilder::digest(inner));
}

TEST(KeyBuilder, DiscardedJsonIsRefused) {
  nlohmann::json discarded = nlohmann::json::parse("{", nullptr, false);
  ASSERT_TRUE(discarded.is_discarded());
  try {
    (void)KeyBuilder::digest(discarded);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

TEST(KeyBuilder, StableAcrossCallsAndThreads) {
  const std::string expected = KeyBuilder("t")(1, "two", 3.0);
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) seen[t] = KeyBuilder("t")(1, "two", 3.0);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& key : seen) EXPECT_EQ(key, expected);
}

TEST(KeyBuilder, BuildTimeForThreeArguments) {
  // The issue's budget is "well under a microsecond"; the exact figure is in the bench report.
  // This guards against an order-of-magnitude regression (e.g. a digest fetch per call), with
  // room for sanitizer builds.
  const KeyBuilder builder("user");
  const std::string name = "ada";
  constexpr int n = 20000;
  std::size_t total = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) total += builder(i, name, true).size();
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count() /
      n;
  EXPECT_EQ(total, static_cast<std::size_t>(n) * (5 + 64));
  EXPECT_LT(ns, 20000) << ns << " ns per key";
  std::printf("key build (3 arguments): %lld ns\n", static_cast<long long>(ns));
}

}  // namespace
}  // namespace asyncredis
