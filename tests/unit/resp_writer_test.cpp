// The RESP encoder: the exact bytes of every argument kind, of whole commands and of pipelines.
// What goes on the wire is compared byte for byte, since Redis parses it the same way.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <list>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/resp_writer.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

std::string bulk(std::string_view bytes) {
  return "$" + std::to_string(bytes.size()) + "\r\n" + std::string(bytes) + "\r\n";
}

std::string bulk_of(std::string_view view) {
  std::string out;
  detail::append_bulk(out, view);
  return out;
}
std::string bulk_of(std::int64_t value) {
  std::string out;
  detail::append_bulk(out, value);
  return out;
}
std::string bulk_of(double value) {
  std::string out;
  detail::append_bulk(out, value);
  return out;
}

TEST(RespWriter, ArrayHeader) {
  std::string out;
  detail::append_array_header(out, 0);
  detail::append_array_header(out, 3);
  detail::append_array_header(out, 1234567);
  detail::append_array_header(out, std::numeric_limits<std::size_t>::max());
  EXPECT_EQ(out, "*0\r\n*3\r\n*1234567\r\n*18446744073709551615\r\n");
}

TEST(RespWriter, Strings) {
  EXPECT_EQ(bulk_of("GET"sv), "$3\r\nGET\r\n");
  EXPECT_EQ(bulk_of(""sv), "$0\r\n\r\n");
  EXPECT_EQ(bulk_of(std::string_view()), "$0\r\n\r\n");  // null data pointer
  EXPECT_EQ(bulk_of("a\r\nb"sv), "$4\r\na\r\nb\r\n");
  EXPECT_EQ(bulk_of("\r\n"sv), "$2\r\n\r\n\r\n");
  const std::string with_nuls("\0x\0"s);
  EXPECT_EQ(bulk_of(with_nuls), "$3\r\n\0x\0\r\n"s);
}

TEST(RespWriter, EveryByteValueSurvives) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  EXPECT_EQ(bulk_of(all), "$256\r\n" + all + "\r\n");
}

TEST(RespWriter, StringsAroundTheStagingSizeAndLarge) {
  // Short payloads take one path, long ones another: check both sides and well beyond.
  for (std::size_t size : {0, 1, 63, 64, 127, 128, 129, 200, 4096, 1 << 20}) {
    std::string payload(size, 'x');
    for (std::size_t i = 0; i < size; i += 7) payload[i] = static_cast<char>(i % 251);
    EXPECT_EQ(bulk_of(payload), bulk(payload)) << "size " << size;
  }
}

TEST(RespWriter, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "prefix";
  detail::append_bulk(out, "abc"sv);
  detail::append_bulk(out, std::string(300, 'z'));
  EXPECT_EQ(out, "prefix$3\r\nabc\r\n" + bulk(std::string(300, 'z')));
}

TEST(RespWriter, Integers) {
  EXPECT_EQ(bulk_of(std::int64_t{0}), "$1\r\n0\r\n");
  EXPECT_EQ(bulk_of(std::int64_t{-1}), "$2\r\n-1\r\n");
  EXPECT_EQ(bulk_of(std::int64_t{42}), "$2\r\n42\r\n");
  EXPECT_EQ(bulk_of(std::numeric_limits<std::int64_t>::max()), "$19\r\n9223372036854775807\r\n");
  EXPECT_EQ(bulk_of(std::numeric_limits<std::int64_t>::min()), "$20\r\n-9223372036854775808\r\n");
  std::string out;
  detail::append_bulk_unsigned(out, 0);
  detail::append_bulk_unsigned(out, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(out, "$1\r\n0\r\n$20\r\n18446744073709551615\r\n");
}

TEST(RespWriter, DoublesShortestRoundTrip) {
  EXPECT_EQ(bulk_of(0.1), "$3\r\n0.1\r\n");
  EXPECT_EQ(bulk_of(1.5), "$3\r\n1.5\r\n");
  EXPECT_EQ(bulk_of(0.0), "$1\r\n0\r\n");
  EXPECT_EQ(bulk_of(-0.0), "$2\r\n-0\r\n");
  EXPECT_EQ(bulk_of(3.0), "$1\r\n3\r\n");
  EXPECT_EQ(bulk_of(1e300), "$6\r\n1e+300\r\n");
  EXPECT_EQ(bulk_of(-2.5e-10), "$8\r\n-2.5e-10\r\n");
  EXPECT_EQ(bulk_of(std::numeric_limits<double>::infinity()), "$3\r\ninf\r\n");
  EXPECT_EQ(bulk_of(-std::numeric_limits<double>::infinity()), "$4\r\n-inf\r\n");
}

TEST(RespWriter, DoublesReadBackExactly) {
  for (double value : {0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 5e-324, 1.7976931348623157e308,
                       -123456.789, 9007199254740993.0}) {
    const std::string encoded = bulk_of(value);
    const std::size_t start = encoded.find("\r\n") + 2;
    const std::string text = encoded.substr(start, encoded.size() - start - 2);
    double back = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), back);
    EXPECT_TRUE(ec == std::errc() && end == text.data() + text.size()) << text;
    EXPECT_EQ(back, value) << text;
    EXPECT_EQ(encoded, bulk(text));
  }
}

TEST(RespWriter, NanIsRefusedAndNothingIsWritten) {
  std::string out = "kept";
  try {
    detail::append_bulk(out, std::nan(""));
    FAIL() << "NaN was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
    EXPECT_NE(e.message().find("NaN"), std::string::npos) << e.message();
  }
  EXPECT_EQ(out, "kept");
}

TEST(EncodeCommand, MixedArguments) {
  std::string out;
  encode_command(out, "SET", std::string("key"), 42, 1.5, std::string_view("v\0w", 3));
  EXPECT_EQ(out, "*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$2\r\n42\r\n$3\r\n1.5\r\n$3\r\nv\0w\r\n"s);
}

TEST(EncodeCommand, IntegerTypes) {
  std::string out;
  encode_command(out, "X", short{-3}, 7u, std::uint64_t{18446744073709551615u},
                 std::int64_t{-9223372036854775807 - 1});
  EXPECT_EQ(out,
            "*5\r\n$1\r\nX\r\n$2\r\n-3\r\n$1\r\n7\r\n$20\r\n18446744073709551615\r\n"
            "$20\r\n-9223372036854775808\r\n");
}

TEST(EncodeCommand, FloatIsSentAsItsDoubleValue) {
  std::string out;
  encode_command(out, "X", 0.5f);
  EXPECT_EQ(out, "*2\r\n$1\r\nX\r\n$3\r\n0.5\r\n");
}

TEST(EncodeCommand, RangesAreFlattened) {
  std::string out;
  encode_command(out, "DEL", std::vector<std::string>{"a", "bb"}, std::list<std::string>{},
                 std::set<std::string>{"c"});
  EXPECT_EQ(out, "*4\r\n$3\r\nDEL\r\n$1\r\na\r\n$2\r\nbb\r\n$1\r\nc\r\n");

  out.clear();
  encode_command(out, "SADD", "s", std::vector<int>{1, -2});
  EXPECT_EQ(out, "*4\r\n$4\r\nSADD\r\n$1\r\ns\r\n$1\r\n1\r\n$2\r\n-2\r\n");
}

TEST(EncodeCommand, EmptyRangeLeavesOnlyTheOtherArguments) {
  std::string out;
  encode_command(out, "DEL", std::vector<std::string>{});
  EXPECT_EQ(out, "*1\r\n$3\r\nDEL\r\n");
}

TEST(EncodeCommand, PairsAndMaps) {
  std::string out;
  encode_command(out, "HSET", "h", std::pair<std::string, int>{"f", 1});
  EXPECT_EQ(out, "*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\nf\r\n$1\r\n1\r\n");

  out.clear();
  encode_command(out, "MSET", std::map<std::string, std::string>{{"k1", "v1"}, {"k2", ""}});
  EXPECT_EQ(out, "*5\r\n$4\r\nMSET\r\n$2\r\nk1\r\n$2\r\nv1\r\n$2\r\nk2\r\n$0\r\n\r\n");

  out.clear();
  encode_command(out, "ZADD", "z",
                 std::vector<std::pair<double, std::string>>{{1.5, "a"}, {-0.25, "b"}});
  EXPECT_EQ(out,
            "*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\n1.5\r\n$1\r\na\r\n$5\r\n-0.25\r\n$1\r\nb\r\n");
}

TEST(EncodeCommand, RawBytes) {
  const std::vector<std::byte> bytes{std::byte{0}, std::byte{0xff}, std::byte{'\r'}};
  std::string out;
  encode_command(out, "SET", "k", bytes);
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n\0\xff\r\r\n"s);

  out.clear();
  encode_command(out, "SET", "k", std::span<const std::byte>(bytes).first(1));
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\0\r\n"s);
}

TEST(EncodeCommand, NanInsideACommandThrows) {
  std::string out;
  EXPECT_THROW(encode_command(out, "ZADD", "z", std::nan(""), "m"), Error);
}

TEST(Pipeline, ConcatenatesCommandsAndCounts) {
  Pipeline p;
  EXPECT_TRUE(p.empty());
  p.add("SET", "a", 1).add("INCR", "a").add("GET", "a");
  EXPECT_EQ(p.size(), 3u);
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.payload(),
            "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"
            "*2\r\n$4\r\nINCR\r\n$1\r\na\r\n"
            "*2\r\n$3\r\nGET\r\n$1\r\na\r\n");
  p.clear();
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.size(), 0u);
  EXPECT_EQ(p.payload(), "");
  p.add("PING");
  EXPECT_EQ(p.payload(), "*1\r\n$4\r\nPING\r\n");
}

}  // namespace
}  // namespace asyncredis
