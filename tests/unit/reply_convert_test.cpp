// Reply::as<T>(): every FromReply specialisation, what it accepts and how it refuses. A server
// error always comes out as errc::server_error with Redis's exact text; a mismatch as
// errc::unexpected_type naming what was expected and what was found.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "asyncredis/commands.hpp"
#include "asyncredis/detail/converting_handler.hpp"
#include "asyncredis/error.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

void PrintTo(const Reply& reply, std::ostream* os) {
  *os << to_debug_string(reply);
}

namespace {

using namespace std::string_literals;

// A user type made convertible through the customisation point.
struct Point {
  std::int64_t x = 0;
  std::int64_t y = 0;
  bool operator==(const Point&) const = default;
};

}  // namespace

template <>
struct FromReply<Point> {
  static Point convert(Reply&& reply) {
    auto [x, y] = std::move(reply).as<std::pair<std::int64_t, std::int64_t>>();
    return {x, y};
  }
};

namespace {

const std::string kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";

Reply bulk(std::string s) {
  return Reply::bulk_string(std::move(s));
}
Reply simple(std::string s) {
  return Reply::simple_string(std::move(s));
}
Reply integer(std::int64_t v) {
  return Reply::integer(v);
}
Reply arr(std::vector<Reply> v) {
  return Reply::array(std::move(v));
}
Reply server_error() {
  return Reply::error(kWrongType);
}

// The Error that converting `reply` to T throws (and a test failure if it does not throw).
template <class T>
Error error_converting(Reply reply) {
  try {
    (void)std::move(reply).as<T>();
  } catch (const Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an asyncredis::Error: " << e.what();
    return Error(errc::invalid_argument, "wrong exception");
  }
  ADD_FAILURE() << "no exception";
  return Error(errc::invalid_argument, "no exception");
}

// Converting `reply` to T is a type mismatch whose message holds every one of `parts`.
template <class T>
void expect_mismatch(Reply reply, std::vector<std::string> parts) {
  const std::string debug = to_debug_string(reply);
  const Error e = error_converting<T>(std::move(reply));
  EXPECT_EQ(e.code(), errc::unexpected_type) << debug << ": " << e.message();
  for (const std::string& part : parts) {
    EXPECT_NE(e.message().find(part), std::string::npos)
        << debug << ": \"" << e.message() << "\" lacks \"" << part << "\"";
  }
}

// Converting `reply` (an error reply, or one holding it) to T is errc::server_error with the
// server's text, unchanged.
template <class T>
void expect_server_error(Reply reply = server_error()) {
  const Error e = error_converting<T>(std::move(reply));
  EXPECT_EQ(e.code(), errc::server_error);
  EXPECT_EQ(e.message(), kWrongType);
}

// ---- Reply itself ---------------------------------------------------------------------------

TEST(ReplyValue, FactoriesAndAccessors) {
  EXPECT_TRUE(Reply().is_nil());
  EXPECT_EQ(Reply::nil().type(), Reply::Type::nil);
  EXPECT_EQ(integer(-3).type(), Reply::Type::integer);
  EXPECT_EQ(integer(-3).integer(), -3);
  EXPECT_TRUE(integer(-3).str().empty());
  EXPECT_EQ(arr({integer(1), bulk("a")}).type(), Reply::Type::array);
  EXPECT_EQ(arr({integer(1), bulk("a")}).elements().size(), 2u);
  EXPECT_EQ(arr({}).type(), Reply::Type::array);
  EXPECT_NE(arr({}), Reply::nil());
  EXPECT_NE(bulk("x"), simple("x"));
  EXPECT_EQ(bulk("x").integer(), 0);
  EXPECT_TRUE(bulk("x").elements().empty());
}

TEST(ReplyValue, TypeNames) {
  EXPECT_EQ(to_string(Reply::Type::nil), "nil");
  EXPECT_EQ(to_string(Reply::Type::simple_string), "simple string");
  EXPECT_EQ(to_string(Reply::Type::error), "error");
  EXPECT_EQ(to_string(Reply::Type::integer), "integer");
  EXPECT_EQ(to_string(Reply::Type::bulk_string), "bulk string");
  EXPECT_EQ(to_string(Reply::Type::array), "array");
}

TEST(ReplyValue, DebugString) {
  EXPECT_EQ(to_debug_string(Reply::nil()), "(nil)");
  EXPECT_EQ(to_debug_string(simple("OK")), "\"OK\"");
  EXPECT_EQ(to_debug_string(bulk("a\r\n\0\"\\\x7f\tz"s)), R"("a\r\n\x00\"\\\x7f\tz")");
  EXPECT_EQ(to_debug_string(integer(3)), "(integer) 3");
  EXPECT_EQ(to_debug_string(Reply::error("ERR no")), "(error) ERR no");
  EXPECT_EQ(to_debug_string(arr({})), "[]");
  EXPECT_EQ(to_debug_string(arr({bulk("a"), integer(-1), arr({Reply::nil()})})),
            R"(["a", (integer) -1, [(nil)]])");
  EXPECT_EQ(to_debug_string(bulk(std::string(1000, 'x'))).size(), 1002u);  // never truncated
}

// ---- Reply, std::string ----------------------------------------------------------------------

TEST(ConvertReply, IsTheReplyItselfEvenAnError) {
  EXPECT_EQ(server_error().as<Reply>(), server_error());
  const Reply nested = arr({bulk("a"), arr({integer(1)})});
  EXPECT_EQ(nested.as<Reply>(), nested);
}

TEST(ConvertString, StringsAndIntegers) {
  EXPECT_EQ(bulk("value").as<std::string>(), "value");
  EXPECT_EQ(bulk("").as<std::string>(), "");
  EXPECT_EQ(bulk("\0bin\r\n"s).as<std::string>(), "\0bin\r\n"s);
  EXPECT_EQ(simple("PONG").as<std::string>(), "PONG");
  EXPECT_EQ(integer(42).as<std::string>(), "42");
  EXPECT_EQ(integer(INT64_MIN).as<std::string>(), "-9223372036854775808");
}

TEST(ConvertString, RvalueMovesConstCopies) {
  const Reply original = bulk(std::string(100, 'm'));
  EXPECT_EQ(original.as<std::string>(), std::string(100, 'm'));
  EXPECT_EQ(original.str(), std::string(100, 'm'));  // untouched
  Reply movable = bulk(std::string(100, 'm'));
  EXPECT_EQ(std::move(movable).as<std::string>(), std::string(100, 'm'));
}

TEST(ConvertString, Refusals) {
  expect_server_error<std::string>();
  expect_mismatch<std::string>(Reply::nil(), {"expected string", "got nil", "(nil)"});
  expect_mismatch<std::string>(arr({bulk("a")}), {"expected string", "got array", "[\"a\"]"});
}

// ---- integers -------------------------------------------------------------------------------

TEST(ConvertInteger, FromIntegersAndDecimalStrings) {
  EXPECT_EQ(integer(7).as<std::int64_t>(), 7);
  EXPECT_EQ(integer(INT64_MIN).as<std::int64_t>(), INT64_MIN);
  EXPECT_EQ(bulk("123").as<std::int64_t>(), 123);
  EXPECT_EQ(bulk("-5").as<int>(), -5);
  EXPECT_EQ(simple("9223372036854775807").as<long long>(), INT64_MAX);
  EXPECT_EQ(bulk("0").as<unsigned>(), 0u);
  EXPECT_EQ(bulk("18446744073709551615").as<std::uint64_t>(), UINT64_MAX);
  EXPECT_EQ(integer(INT64_MAX).as<std::uint64_t>(), static_cast<std::uint64_t>(INT64_MAX));
}

TEST(ConvertInteger, NotWholeDecimalNumbers) {
  for (const char* text : {"", "abc", "12a", " 1", "1 ", "+1", "1.5", "1e3", "0x10",
                           "9223372036854775808", "-9223372036854775809"}) {
    expect_mismatch<std::int64_t>(bulk(text), {"expected integer", "got bulk string"});
  }
  expect_mismatch<std::uint64_t>(bulk("18446744073709551616"), {"expected unsigned integer"});
  expect_mismatch<std::uint64_t>(bulk("x"), {"expected unsigned integer", "got bulk string"});
  expect_mismatch<int>(simple("OK"), {"expected integer", "got simple string", "\"OK\""});
  expect_mismatch<int>(Reply::nil(), {"expected integer", "got nil"});
  expect_mismatch<std::uint16_t>(arr({}), {"expected unsigned integer", "got array"});
}

TEST(ConvertInteger, OutOfRangeForTheTargetType) {
  EXPECT_EQ(integer(127).as<std::int8_t>(), 127);
  EXPECT_EQ(integer(-128).as<std::int8_t>(), -128);
  expect_mismatch<std::int8_t>(integer(128), {"signed integer", "(integer) 128"});
  expect_mismatch<std::int8_t>(integer(-129), {"signed integer", "(integer) -129"});
  EXPECT_EQ(bulk("255").as<std::uint8_t>(), 255);
  expect_mismatch<std::uint8_t>(bulk("256"), {"unsigned integer", "\"256\""});
  expect_mismatch<int>(integer(std::int64_t{1} << 31), {"signed integer", "2147483648"});
  expect_mismatch<std::uint64_t>(integer(-1), {"unsigned integer", "(integer) -1"});
  expect_mismatch<unsigned>(bulk("-1"), {"unsigned integer", "\"-1\""});
}

TEST(ConvertInteger, ServerError) {
  expect_server_error<std::int64_t>();
  expect_server_error<std::uint8_t>();
  expect_server_error<unsigned long long>();
}

// ---- floating point -------------------------------------------------------------------------

TEST(ConvertDouble, NumbersInfinitiesAndIntegers) {
  EXPECT_EQ(bulk("3.14").as<double>(), 3.14);
  EXPECT_EQ(bulk("-0.5").as<double>(), -0.5);
  EXPECT_EQ(bulk("1e300").as<double>(), 1e300);
  EXPECT_EQ(bulk("10").as<double>(), 10.0);
  EXPECT_EQ(simple("2.5").as<double>(), 2.5);
  EXPECT_EQ(integer(-7).as<double>(), -7.0);
  EXPECT_EQ(bulk("inf").as<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(bulk("+inf").as<double>(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(bulk("-inf").as<double>(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(bulk("0.25").as<float>(), 0.25f);
  EXPECT_EQ(bulk("-inf").as<float>(), -std::numeric_limits<float>::infinity());
}

TEST(ConvertDouble, Refusals) {
  for (const char* text : {"", "abc", "1.5x", " 1", "nan", "1e400", "infinity"}) {
    expect_mismatch<double>(bulk(text), {"expected number", "got bulk string"});
  }
  expect_mismatch<double>(Reply::nil(), {"expected number", "got nil"});
  expect_mismatch<float>(arr({bulk("1")}), {"expected number", "got array"});
  expect_server_error<double>();
  expect_server_error<float>();
}

// ---- bool -----------------------------------------------------------------------------------

TEST(ConvertBool, AcceptedForms) {
  EXPECT_TRUE(integer(1).as<bool>());
  EXPECT_TRUE(integer(-2).as<bool>());
  EXPECT_FALSE(integer(0).as<bool>());
  EXPECT_TRUE(simple("OK").as<bool>());
  EXPECT_FALSE(Reply::nil().as<bool>());  // SET NX that did not set
  EXPECT_TRUE(bulk("1").as<bool>());
  EXPECT_FALSE(bulk("0").as<bool>());
}

TEST(ConvertBool, Refusals) {
  expect_mismatch<bool>(bulk("yes"), {"expected boolean", "got bulk string", "\"yes\""});
  expect_mismatch<bool>(bulk("OK"), {"expected boolean", "got bulk string"});
  expect_mismatch<bool>(simple("QUEUED"), {"expected boolean", "got simple string"});
  expect_mismatch<bool>(arr({}), {"expected boolean", "got array"});
  expect_server_error<bool>();
}

// ---- optional -------------------------------------------------------------------------------

TEST(ConvertOptional, NilIsNulloptOtherwiseTheValue) {
  EXPECT_EQ(Reply::nil().as<std::optional<std::string>>(), std::nullopt);
  EXPECT_EQ(bulk("").as<std::optional<std::string>>(), std::optional<std::string>(""));
  EXPECT_EQ(integer(5).as<std::optional<std::int64_t>>(), 5);
  expect_mismatch<std::optional<std::int64_t>>(bulk("x"), {"expected integer", "got bulk string"});
  expect_server_error<std::optional<std::string>>();
}

// ---- containers -----------------------------------------------------------------------------

TEST(ConvertVector, ElementsConverted) {
  EXPECT_EQ(arr({bulk("a"), simple("b"), integer(3)}).as<std::vector<std::string>>(),
            (std::vector<std::string>{"a", "b", "3"}));
  EXPECT_TRUE(arr({}).as<std::vector<int>>().empty());
  EXPECT_EQ(arr({bulk("a"), Reply::nil()}).as<std::vector<std::optional<std::string>>>(),
            (std::vector<std::optional<std::string>>{"a", std::nullopt}));
  EXPECT_EQ(arr({arr({integer(1)}), arr({})}).as<std::vector<std::vector<int>>>(),
            (std::vector<std::vector<int>>{{1}, {}}));
  EXPECT_EQ(arr({server_error()}).as<std::vector<Reply>>(), std::vector<Reply>{server_error()});
}

TEST(ConvertVector, Refusals) {
  expect_mismatch<std::vector<std::string>>(bulk("a"), {"expected array", "got bulk string"});
  expect_mismatch<std::vector<std::string>>(Reply::nil(), {"expected array", "got nil"});
  expect_mismatch<std::vector<std::string>>(arr({bulk("a"), Reply::nil()}),
                                            {"expected string", "got nil"});
  expect_server_error<std::vector<std::string>>();
  // An error reply as an element is that element's server error, text intact.
  expect_server_error<std::vector<std::string>>(arr({bulk("a"), server_error()}));
}

TEST(ConvertMap, KeyValuePairs) {
  const Reply hgetall = arr({bulk("f1"), bulk("v1"), bulk("f2"), bulk("")});
  EXPECT_EQ((hgetall.as<std::map<std::string, std::string>>()),
            (std::map<std::string, std::string>{{"f1", "v1"}, {"f2", ""}}));
  EXPECT_EQ((arr({bulk("a"), bulk("1"), bulk("b"), integer(-2)})
                 .as<std::unordered_map<std::string, std::int64_t>>()),
            (std::unordered_map<std::string, std::int64_t>{{"a", 1}, {"b", -2}}));
  EXPECT_TRUE((arr({}).as<std::map<std::string, int>>().empty()));
}

TEST(ConvertMap, Refusals) {
  using Map = std::map<std::string, std::string>;
  expect_mismatch<Map>(arr({bulk("a"), bulk("1"), bulk("b")}),
                       {"expected an even number of elements", "got 3 elements"});
  expect_mismatch<Map>(integer(1), {"expected array of key-value pairs", "got integer"});
  expect_mismatch<std::map<std::string, int>>(arr({bulk("a"), bulk("x")}),
                                              {"expected integer", "got bulk string"});
  expect_server_error<Map>();
  expect_server_error<Map>(arr({bulk("a"), server_error()}));
}

TEST(ConvertPair, TwoElements) {
  EXPECT_EQ((arr({bulk("member"), bulk("1.5")}).as<std::pair<std::string, double>>()),
            (std::pair<std::string, double>{"member", 1.5}));
  expect_mismatch<std::pair<int, int>>(arr({integer(1)}), {"expected array of 2", "got 1 element"});
  expect_mismatch<std::pair<int, int>>(arr({integer(1), integer(2), integer(3)}),
                                       {"expected array of 2", "got 3 elements"});
  expect_mismatch<std::pair<int, int>>(bulk("12"), {"expected array of 2", "got bulk string"});
  expect_server_error<std::pair<int, int>>();
}

TEST(ConvertTuple, ExactSize) {
  using T = std::tuple<std::string, std::int64_t, std::optional<std::string>>;
  EXPECT_EQ(arr({bulk("a"), integer(2), Reply::nil()}).as<T>(), (T{"a", 2, std::nullopt}));
  expect_mismatch<T>(arr({bulk("a"), integer(2)}), {"expected array of 3", "got 2 elements"});
  expect_mismatch<T>(Reply::nil(), {"expected array", "got nil"});
  expect_mismatch<T>(arr({bulk("a"), bulk("b"), Reply::nil()}), {"expected integer", "\"b\""});
  expect_server_error<T>();
  EXPECT_EQ(arr({}).as<std::tuple<>>(), std::tuple<>());
}

TEST(ConvertCustom, UserSpecialisationWorksAloneAndNested) {
  EXPECT_EQ(arr({integer(1), bulk("2")}).as<Point>(), (Point{1, 2}));
  EXPECT_EQ(
      arr({arr({integer(1), integer(2)}), arr({integer(3), integer(4)})}).as<std::vector<Point>>(),
      (std::vector<Point>{{1, 2}, {3, 4}}));
  expect_server_error<Point>();
}

// ---- messages -------------------------------------------------------------------------------

TEST(ConvertMessages, FoundValueIsTruncated) {
  const Error e = error_converting<std::int64_t>(bulk(std::string(5000, 'x')));
  EXPECT_EQ(e.code(), errc::unexpected_type);
  EXPECT_LT(e.message().size(), 120u) << e.message();
  EXPECT_NE(e.message().find("..."), std::string::npos) << e.message();
  std::vector<Reply> many(100000, integer(1));
  const Error big = error_converting<std::string>(arr(std::move(many)));
  EXPECT_LT(big.message().size(), 120u) << big.message();
}

TEST(ConvertMessages, ServerTextKeptExactly) {
  const std::string odd = "ERR \"quoted\" \\ and\ttab \xff";
  const Error e = error_converting<std::string>(Reply::error(odd));
  EXPECT_EQ(e.message(), odd);
  const Error empty = error_converting<int>(Reply::error(""));
  EXPECT_EQ(empty.code(), errc::server_error);
  EXPECT_EQ(empty.message(), "");
}

TEST(ConvertHelpers, ServerErrorOf) {
  std::exception_ptr p = detail::server_error_of(server_error());
  ASSERT_TRUE(p);
  EXPECT_EQ(error_code_of(p), errc::server_error);
  EXPECT_EQ(error_message_of(p), kWrongType);
}

TEST(ConvertHelpers, DecodeError) {
  try {
    detail::throw_decode_error("user:1", "parse error at byte 3");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::decode_error);
    EXPECT_EQ(e.message(), "key 'user:1': parse error at byte 3");
  }
}

// ---- TIME -----------------------------------------------------------------------------------

TEST(ConvertTime, SecondsAndMicroseconds) {
  using namespace std::chrono;
  const auto at = detail::time_of(arr({bulk("1700000000"), bulk("123456")}));
  EXPECT_EQ(duration_cast<microseconds>(at.time_since_epoch()).count(), 1700000000123456);
  const auto epoch = detail::time_of(arr({bulk("0"), bulk("0")}));
  EXPECT_EQ(epoch.time_since_epoch().count(), 0);
  const auto from_integers = detail::time_of(arr({integer(5), integer(999999)}));
  EXPECT_EQ(duration_cast<microseconds>(from_integers.time_since_epoch()).count(), 5999999);
}

TEST(ConvertTime, Malformed) {
  for (Reply reply :
       {arr({bulk("1700000000")}), arr({bulk("1"), bulk("2"), bulk("3")}),
        arr({bulk("abc"), bulk("1")}), arr({bulk("1"), bulk("1000000")}),
        arr({bulk("-1"), bulk("0")}), arr({bulk("1"), bulk("-1")}), arr({bulk("1"), Reply::nil()}),
        arr({bulk("99999999999999"), bulk("0")}), bulk("1700000000"), Reply::nil()}) {
    const std::string debug = to_debug_string(reply);
    try {
      detail::time_of(std::move(reply));
      ADD_FAILURE() << "accepted " << debug;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::unexpected_type) << debug;
      EXPECT_NE(e.message().find("seconds, microseconds"), std::string::npos) << e.message();
    }
  }
  try {
    detail::time_of(server_error());
    ADD_FAILURE() << "accepted an error reply";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::server_error);
    EXPECT_EQ(e.message(), kWrongType);
  }
}

}  // namespace
}  // namespace asyncredis
