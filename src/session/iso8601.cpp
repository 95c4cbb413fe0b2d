// ISO 8601 for session times. All arithmetic is in int64 microseconds (about +-292,000 years)
// so out-of-range input is detected before it reaches system_clock's narrower duration.
#include "asyncredis/session/iso8601.hpp"

#include <cstdint>
#include <cstdio>

#include "asyncredis/error.hpp"
#include "session/text.hpp"

namespace asyncredis {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

constexpr std::int64_t kMicrosPerSecond = 1'000'000;

// A cursor over the text; each reader either consumes what it expects or reports why not.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool at_end() const noexcept { return pos_ == text_.size(); }
  std::size_t position() const noexcept { return pos_; }
  char peek() const noexcept { return at_end() ? '\0' : text_[pos_]; }

  // Exactly `count` decimal digits.
  bool digits(int count, int& value) noexcept {
    value = 0;
    for (int i = 0; i < count; ++i) {
      if (at_end() || !is_digit(text_[pos_])) return false;
      value = value * 10 + (text_[pos_++] - '0');
    }
    return true;
  }
  bool consume(char c) noexcept {
    if (at_end() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  // 1-9 digits as microseconds (digits past the sixth are dropped, as Python does).
  bool fraction(std::int64_t& micros) noexcept {
    micros = 0;
    int count = 0;
    while (!at_end() && is_digit(text_[pos_])) {
      if (count < 6) micros = micros * 10 + (text_[pos_] - '0');
      ++count;
      ++pos_;
    }
    if (count == 0 || count > 9) return false;
    for (int i = count; i < 6; ++i) micros *= 10;
    return true;
  }

 private:
  static bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Why a parse failed; a literal, so the noexcept path never allocates.
using Why = const char*;

bool is_leap(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) noexcept {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// "HH:MM[:SS[.f]]" after a date, or the same shape in an offset (`offset` true: "HHMM" too,
// and no fraction beyond microseconds matters). Returns microseconds since midnight.
Why read_clock(Reader& in, bool offset, std::int64_t& micros) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  std::int64_t fraction = 0;
  if (!in.digits(2, hour)) return offset ? "expected the offset's hours HH" : "expected hours HH";
  if (in.consume(':')) {
    if (!in.digits(2, minute)) return "expected minutes MM after ':'";
    if (in.consume(':')) {
      if (!in.digits(2, second)) return "expected seconds SS after ':'";
      if (in.consume('.') || in.consume(',')) {
        if (!in.fraction(fraction)) return "expected 1 to 9 digits of fraction";
      }
    }
  } else if (offset) {
    if (!in.digits(2, minute)) return "expected the offset's minutes (+HH:MM or +HHMM)";
  } else {
    return "expected ':' after the hours";
  }
  if (hour > 23) return offset ? "offset must be less than 24 hours" : "hour must be 00-23";
  if (minute > 59) return "minute must be 00-59";
  if (second > 59) return "second must be 00-59 (no leap seconds)";
  micros = ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
  return nullptr;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(int year, int month, int day) noexcept {
  const std::int64_t y = year - (month <= 2 ? 1 : 0);
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Why parse(std::string_view text, system_clock::time_point& out) {
  Reader in(text);
  int year = 0;
  int month = 0;
  int day = 0;
  if (!in.digits(4, year)) return "expected a 4-digit year";
  if (!in.consume('-')) return "expected '-' after the year (YYYY-MM-DD)";
  if (!in.digits(2, month)) return "expected a 2-digit month";
  if (!in.consume('-')) return "expected '-' after the month (YYYY-MM-DD)";
  if (!in.digits(2, day)) return "expected a 2-digit day";
  if (year < 1) return "year must be 0001-9999";
  if (month < 1 || month > 12) return "month must be 01-12";
  if (day < 1 || day > days_in_month(year, month)) return "no such day in that month";
  if (in.at_end()) return "a date without a time and offset is not a point in time";
  if (!in.consume('T') && !in.consume(' ')) return "expected 'T' or ' ' between date and time";

  std::int64_t clock = 0;
  if (Why why = read_clock(in, false, clock)) return why;

  std::int64_t offset = 0;
  if (in.at_end()) return "no UTC offset: a naive time is ambiguous (add \"+00:00\" or \"Z\")";
  if (!in.consume('Z')) {
    const char sign = in.peek();
    if (!in.consume('+') && !in.consume('-')) return "expected 'Z', '+' or '-' for the UTC offset";
    if (Why why = read_clock(in, true, offset)) return why;
    if (sign == '-') offset = -offset;
  }
  if (!in.at_end()) return "unexpected text after the UTC offset";

  const std::int64_t micros =
      days_from_civil(year, month, day) * 86'400 * kMicrosPerSecond + clock - offset;
  using Duration = system_clock::duration;
  const auto lowest = std::chrono::duration_cast<microseconds>(Duration::min()).count() + 1;
  const auto highest = std::chrono::duration_cast<microseconds>(Duration::max()).count() - 1;
  if (micros < lowest || micros > highest) return "outside the range system_clock can hold";
  out = system_clock::time_point(std::chrono::duration_cast<Duration>(microseconds(micros)));
  return nullptr;
}

}  // namespace

std::string format_iso8601(system_clock::time_point t) {
  const auto micros = std::chrono::floor<microseconds>(t.time_since_epoch());
  const auto days = std::chrono::floor<std::chrono::days>(micros);
  const std::chrono::year_month_day date{std::chrono::sys_days(days)};
  const std::int64_t in_day = (micros - days).count();
  const std::int64_t seconds = in_day / kMicrosPerSecond;
  const std::int64_t fraction = in_day % kMicrosPerSecond;

  char buffer[40];
  int length = std::snprintf(
      buffer, sizeof buffer, "%04d-%02u-%02uT%02lld:%02lld:%02lld", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<long long>(seconds / 3600), static_cast<long long>(seconds / 60 % 60),
      static_cast<long long>(seconds % 60));
  if (fraction != 0) {
    length += std::snprintf(buffer + length, sizeof buffer - static_cast<std::size_t>(length),
                            ".%06lld", static_cast<long long>(fraction));
  }
  std::string out(buffer, static_cast<std::size_t>(length));
  out += "+00:00";
  return out;
}

std::optional<system_clock::time_point> try_parse_iso8601(std::string_view text) noexcept {
  system_clock::time_point out;
  if (parse(text, out) != nullptr) return std::nullopt;
  return out;
}

system_clock::time_point parse_iso8601(std::string_view text) {
  system_clock::time_point out;
  if (Why why = parse(text, out)) {
    throw Error(errc::invalid_argument,
                "invalid ISO 8601 date-time " + session_detail::printable(text) + ": " + why);
  }
  return out;
}

}  // namespace asyncredis
