// ISO 8601 as Python writes and reads it: golden strings (computed with Python 3.11's
// datetime), offsets, leap and edge dates, and what is refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "asyncredis/error.hpp"
#include "asyncredis/session/iso8601.hpp"

namespace asyncredis {
namespace {

using std::chrono::system_clock;

system_clock::time_point at_us(std::int64_t micros) {
  return system_clock::time_point(std::chrono::microseconds(micros));
}
std::int64_t us_of(system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TEST(SessionIso8601, FormatsAsPythonIsoformat) {
  // (unix microseconds, datetime.fromtimestamp(us / 1e6, timezone.utc).isoformat())
  const std::pair<std::int64_t, const char*> golden[] = {
      {0, "1970-01-01T00:00:00+00:00"},
      {1, "1970-01-01T00:00:00.000001+00:00"},
      {-1, "1969-12-31T23:59:59.999999+00:00"},
      {1795758807123456, "2026-11-27T05:53:27.123456+00:00"},
      {1709251199999999, "2024-02-29T23:59:59.999999+00:00"},
      {951782400000000, "2000-02-29T00:00:00+00:00"},
      {4107542400000000, "2100-03-01T00:00:00+00:00"},
      {-2208988800000000, "1900-01-01T00:00:00+00:00"},
      {1772319600500000, "2026-02-28T23:00:00.500000+00:00"},
  };
  for (const auto& [micros, text] : golden) {
    EXPECT_EQ(format_iso8601(at_us(micros)), text) << micros;
  }
}

TEST(SessionIso8601, FormatDropsSubMicrosecondsTowardThePast) {
  using std::chrono::nanoseconds;
  const system_clock::time_point t(
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(1795758807123456999)));
  EXPECT_EQ(format_iso8601(t), "2026-11-27T05:53:27.123456+00:00");
  const system_clock::time_point before_epoch(
      std::chrono::duration_cast<system_clock::duration>(nanoseconds(-1)));
  EXPECT_EQ(format_iso8601(before_epoch), "1969-12-31T23:59:59.999999+00:00");
}

TEST(SessionIso8601, FormatsTheEndsOfSystemClock) {
  EXPECT_EQ(format_iso8601(system_clock::time_point::min()).substr(0, 10), "1677-09-21");
  EXPECT_EQ(format_iso8601(system_clock::time_point::max()).substr(0, 10), "2262-04-11");
}

TEST(SessionIso8601, ParsesWhatPythonWrites) {
  const std::pair<const char*, std::int64_t> golden[] = {
      {"2026-11-27T05:53:27.123456+00:00", 1795758807123456},
      {"2024-02-29T23:59:59.999999+00:00", 1709251199999999},
      {"2000-02-29T00:00:00+00:00", 951782400000000},
      {"1969-12-31T23:59:59.999999+00:00", -1},
      {"2100-03-01T00:00:00+00:00", 4107542400000000},
      {"1677-09-22T00:00:00+00:00", -9223286400000000},
      {"2262-04-11T00:00:00+00:00", 9223286400000000},
  };
  for (const auto& [text, micros] : golden) {
    EXPECT_EQ(us_of(parse_iso8601(text)), micros) << text;
  }
}

TEST(SessionIso8601, ConvertsOffsetsToUtc) {
  const std::int64_t new_year = 1767225600000000;  // 2026-01-01T00:00:00Z
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00Z")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T05:30:00+05:30")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T05:30:00+0530")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2025-12-31T16:00:00-08:00")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00-00:00")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T23:59:00+23:59")), new_year);
  // Python writes seconds (and microseconds) in an offset when it has them.
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:15.5+00:00:15.5")), new_year);
  EXPECT_EQ(us_of(parse_iso8601("2026-03-01T00:00:00.5+01:00")), 1772319600500000);
}

TEST(SessionIso8601, AcceptsPythonsOtherForms) {
  const std::int64_t t = 1767225600000000;
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01 00:00:00+00:00")), t);  // str(datetime)
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00+00:00")), t);     // no seconds
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00.1+00:00")), t + 100000);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00,25+00:00")), t + 250000);
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00.123+00:00")), t + 123000);
  // Past the microsecond the digits are dropped, as Python does.
  EXPECT_EQ(us_of(parse_iso8601("2026-01-01T00:00:00.123456789+00:00")), t + 123456);
}

TEST(SessionIso8601, RoundTripsEveryMicrosecondItWrites) {
  std::mt19937_64 random(12345);
  std::uniform_int_distribution<std::int64_t> micros(-9'000'000'000'000'000, 9'000'000'000'000'000);
  for (int i = 0; i < 20000; ++i) {
    const system_clock::time_point t = at_us(micros(random));
    const std::string text = format_iso8601(t);
    EXPECT_EQ(parse_iso8601(text), t) << text;
    EXPECT_EQ(format_iso8601(parse_iso8601(text)), text);
  }
}

TEST(SessionIso8601, LeapYearsFollowTheGregorianRules) {
  EXPECT_TRUE(try_parse_iso8601("2024-02-29T00:00:00+00:00"));   // divisible by 4
  EXPECT_TRUE(try_parse_iso8601("2000-02-29T00:00:00+00:00"));   // by 400
  EXPECT_FALSE(try_parse_iso8601("2100-02-29T00:00:00+00:00"));  // by 100, not 400
  EXPECT_FALSE(try_parse_iso8601("2023-02-29T00:00:00+00:00"));
  EXPECT_FALSE(try_parse_iso8601("2024-02-30T00:00:00+00:00"));
  EXPECT_FALSE(try_parse_iso8601("2026-04-31T00:00:00+00:00"));
  EXPECT_TRUE(try_parse_iso8601("2026-12-31T23:59:59.999999+00:00"));
  // A time a day's offset away lands on the neighbouring day (and year).
  EXPECT_EQ(format_iso8601(parse_iso8601("2027-01-01T01:00:00+02:00")),
            "2026-12-31T23:00:00+00:00");
}

TEST(SessionIso8601, RefusesWhatIsNotAnAwareDateTime) {
  const std::pair<const char*, const char*> bad[] = {
      {"", "4-digit year"},
      {"2026-11-27T05:53:27", "no UTC offset"},
      {"2026-11-27T05:53:27.123456", "no UTC offset"},
      {"2026-11-27", "date without a time"},
      {"2026-11-27T", "hours"},
      {"26-11-27T05:53:27+00:00", "4-digit year"},
      {"2026/11/27T05:53:27+00:00", "'-' after the year"},
      {"0000-01-01T00:00:00+00:00", "year must be"},
      {"2026-13-01T00:00:00+00:00", "month must be"},
      {"2026-00-01T00:00:00+00:00", "month must be"},
      {"2026-11-00T00:00:00+00:00", "no such day"},
      {"2026-11-31T00:00:00+00:00", "no such day"},
      {"2026-11-27X05:53:27+00:00", "'T' or ' '"},
      {"2026-11-27T24:00:00+00:00", "hour must be"},
      {"2026-11-27T23:60:00+00:00", "minute must be"},
      {"2026-11-27T23:59:60+00:00", "second must be"},
      {"2026-11-27T0553+00:00", "':' after the hours"},
      {"2026-11-27T05:53:27.+00:00", "fraction"},
      {"2026-11-27T05:53:27.1234567890+00:00", "fraction"},
      {"2026-11-27T05:53:27+24:00", "less than 24 hours"},
      {"2026-11-27T05:53:27+05:60", "minute must be"},
      {"2026-11-27T05:53:27+5:30", "offset's hours"},
      {"2026-11-27T05:53:27+05", "offset's minutes"},
      {"2026-11-27T05:53:27 +00:00", "'Z', '+' or '-'"},
      {"2026-11-27T05:53:27z", "'Z', '+' or '-'"},
      {"2026-11-27T05:53:27+00:00 ", "after the UTC offset"},
      {"2026-11-27T05:53:27Z+00:00", "after the UTC offset"},
      {" 2026-11-27T05:53:27+00:00", "4-digit year"},
      {"9999-12-31T23:59:59+00:00", "system_clock"},
      {"1600-01-01T00:00:00+00:00", "system_clock"},
  };
  for (const auto& [text, reason] : bad) {
    EXPECT_EQ(try_parse_iso8601(text), std::nullopt) << text;
    try {
      parse_iso8601(text);
      ADD_FAILURE() << "accepted \"" << text << "\"";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << text;
      EXPECT_NE(e.message().find(std::string("\"") + text + "\""), std::string::npos)
          << e.message();
      EXPECT_NE(e.message().find(reason), std::string::npos) << e.message();
    }
  }
}

}  // namespace
}  // namespace asyncredis
