// ISO 8601 date-times as Python's datetime writes and reads them, so session times stored by
// either language read the same in the other.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace asyncredis {

/// `t` (UTC) as Python's datetime.isoformat() writes an aware UTC datetime:
/// "2026-11-27T05:53:27.123456+00:00", and without the fraction when the microseconds are 0
/// ("2026-11-27T05:53:27+00:00"). Sub-microsecond digits are dropped (rounded toward the
/// past). Never throws for a representable time point: system_clock's range (years 1677-2262
/// with libstdc++'s nanoseconds) lies inside Python's (years 1-9999).
std::string format_iso8601(std::chrono::system_clock::time_point t);

/// Reads an ISO 8601 date-time with a UTC offset into a UTC time point, accepting what
/// Python's isoformat() writes and more: "YYYY-MM-DD", 'T' or ' ', "HH:MM" or "HH:MM:SS",
/// an optional fraction of 1-9 digits after '.' or ',' (kept to the microsecond, like
/// Python), then "Z", "+HH:MM", "+HHMM", "+HH:MM:SS[.ffffff]" or the same with '-'. A time
/// without an offset is refused: a naive time is ambiguous (seed mistake 7). Also refused:
/// impossible dates (February 30, February 29 of a non-leap year), hour 24, second 60,
/// offsets of 24 hours or more, anything before or after the value, and times system_clock
/// cannot hold (with libstdc++'s nanoseconds: before 1677-09-21 or after 2262-04-11). Throws
/// Error(errc::invalid_argument) quoting the text and saying what is wrong.
std::chrono::system_clock::time_point parse_iso8601(std::string_view text);

/// The same, std::nullopt instead of throwing.
std::optional<std::chrono::system_clock::time_point> try_parse_iso8601(
    std::string_view text) noexcept;

}  // namespace asyncredis
