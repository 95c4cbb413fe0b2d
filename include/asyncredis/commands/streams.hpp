// StreamCommands: commands on streams (XADD, XRANGE, XREAD, consumer groups). A key holding
// another type fails with errc::server_error (WRONGTYPE ...).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "asyncredis/command.hpp"
#include "asyncredis/detail/command_base.hpp"
#include "asyncredis/detail/request.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis {

/// One entry of a stream: its id and its fields, in the order they were added.
struct StreamEntry {
  std::string id;                                           ///< "milliseconds-sequence"
  std::vector<std::pair<std::string, std::string>> fields;  ///< (field, value), in order
  /// Same id and fields.
  friend bool operator==(const StreamEntry&, const StreamEntry&) = default;
};

/// The entries XREAD / XREADGROUP returned for one stream.
struct StreamEntries {
  std::string stream;                ///< the stream's key
  std::vector<StreamEntry> entries;  ///< oldest first
  /// Same stream and entries.
  friend bool operator==(const StreamEntries&, const StreamEntries&) = default;
};

/// Trimming of XADD and XTRIM: by length (MAXLEN) or by lowest id kept (MINID), not both.
struct StreamTrim {
  std::optional<std::size_t> max_len;  ///< MAXLEN: entries kept; std::nullopt: no MAXLEN
  std::string min_id;                  ///< empty: no MINID
  bool approximate = false;  ///< "~": Redis may keep a few more entries, trimming whole nodes
};

/// Options of XADD.
struct XAddOptions {
  std::string id = "*";  ///< "*": the server assigns the next id
  StreamTrim trim;       ///< MAXLEN / MINID, if any
};

/// Options of XRANGE / XREVRANGE: the id range and how many entries at most.
struct XRangeOptions {
  std::string start = "-";  ///< inclusive; "(" before an id excludes it
  std::string end = "+";    ///< inclusive, like start
  std::size_t count = 0;    ///< 0: every entry in the range
};

/// Options of XREAD / XREADGROUP.
struct XReadOptions {
  std::size_t count = 0;  ///< per stream; 0: no limit
  /// Wait up to this long for new entries (0: forever). Only on a Lease: a RedisClient
  /// refuses it with errc::invalid_argument, as it would stall a shared connection.
  std::optional<std::chrono::milliseconds> block;
  bool no_ack = false;  ///< XREADGROUP only: do not add the entries to the pending list
};

/// XAUTOCLAIM's reply: where the next call starts ("0-0": the whole list was scanned), the
/// entries claimed, and the ids that were pending but are no longer in the stream.
struct XAutoClaimResult {
  std::string next_id;                   ///< the start of the next call
  std::vector<StreamEntry> entries;      ///< now pending for the consumer
  std::vector<std::string> deleted_ids;  ///< pending, but no longer in the stream
};

/// XPENDING key group: the pending list in summary.
struct XPendingSummary {
  std::int64_t count = 0;                 ///< entries pending in the group
  std::optional<std::string> lowest_id;   ///< std::nullopt when nothing is pending
  std::optional<std::string> highest_id;  ///< likewise
  std::vector<std::pair<std::string, std::int64_t>> consumers;  ///< consumer, entries pending
};

/// One entry of XPENDING key group start end count [consumer].
struct PendingEntry {
  std::string id;                     ///< the entry's id
  std::string consumer;               ///< that it was delivered to
  std::chrono::milliseconds idle{0};  ///< since it was last delivered
  std::int64_t deliveries = 0;        ///< times it was delivered
};

/// The range form of XPENDING: ids from start to end, at most count, of one consumer or all.
struct XPendingRange {
  std::string start = "-";  ///< inclusive lowest id
  std::string end = "+";    ///< inclusive highest id
  std::size_t count = 10;   ///< at most this many entries
  std::string consumer;     ///< empty: every consumer
};

/// Reads a stream entry: [id, [field, value, ...]]; another shape is errc::unexpected_type.
template <>
struct FromReply<StreamEntry> {
  /// Throws Error: errc::unexpected_type for another shape, errc::server_error for an error reply.
  static StreamEntry convert(Reply&& reply);
};
/// Reads one stream of XREAD: [stream, [entry, ...]]; another shape is errc::unexpected_type.
template <>
struct FromReply<StreamEntries> {
  /// Throws Error: errc::unexpected_type for another shape, errc::server_error for an error reply.
  static StreamEntries convert(Reply&& reply);
};
/// Reads XAUTOCLAIM's [next id, [entry, ...], [deleted id, ...]]; another shape is
/// errc::unexpected_type.
template <>
struct FromReply<XAutoClaimResult> {
  /// Throws Error: errc::unexpected_type for another shape, errc::server_error for an error reply.
  static XAutoClaimResult convert(Reply&& reply);
};
/// Reads XPENDING's summary: [count, lowest, highest, [[consumer, count], ...]]; another shape is
/// errc::unexpected_type.
template <>
struct FromReply<XPendingSummary> {
  /// Throws Error: errc::unexpected_type for another shape, errc::server_error for an error reply.
  static XPendingSummary convert(Reply&& reply);
};
/// Reads one entry of XPENDING's range form: [id, consumer, idle ms, deliveries]; another shape is
/// errc::unexpected_type.
template <>
struct FromReply<PendingEntry> {
  /// Throws Error: errc::unexpected_type for another shape, errc::server_error for an error reply.
  static PendingEntry convert(Reply&& reply);
};

namespace detail {
// MAXLEN [~] n or MINID [~] id; nothing for an empty trim. Error(errc::invalid_argument)
// for both at once, or (`required`, XTRIM) for neither.
std::vector<std::string> trim_args(const StreamTrim& trim, bool required);
// XREAD's / XREADGROUP's request: [GROUP group consumer] COUNT, BLOCK, NOACK, STREAMS.
// A BLOCK form is checked like command<T>()'s, so a RedisClient refuses it.
Request stream_read_request(Request&& base, std::string_view group, std::string_view consumer,
                            const XReadOptions& options,
                            const std::vector<std::pair<std::string, std::string>>& streams);
// XREAD's reply: nil (nothing new before the timeout) is an empty vector.
std::vector<StreamEntries> stream_entries_of(Reply&& reply);
}  // namespace detail

/// XADD, XREAD, consumer groups and the other commands on streams. Every method is an Asio
/// operation: its last argument is a completion token (Base's default when omitted), and a key
/// holding another type fails with errc::server_error (WRONGTYPE).
template <class Base>
class StreamCommands : public Base {
 public:
  using Base::Base;

  /// XADD: the new entry's id. `fields` is a range of (field, value) pairs; an explicit id
  /// not above the stream's last is errc::server_error.
  template <Arg Fields, class Token = typename Base::default_token_type>
  auto xadd(std::string_view key, const Fields& fields, const XAddOptions& options,
            Token&& token = {}) const {
    return this->template start<std::string>(
        this->make_request("XADD", key, detail::trim_args(options.trim, false), options.id, fields),
        std::forward<Token>(token));
  }
  /// XRANGE / XREVRANGE (start and end swap roles): the entries in the range, oldest / newest
  /// first; empty for a missing key.
  template <class Token = typename Base::default_token_type>
  auto xrange(std::string_view key, const XRangeOptions& range, Token&& token = {}) const {
    return this->template start<std::vector<StreamEntry>>(
        this->make_request("XRANGE", key, range.start, range.end, count_args(range.count)),
        std::forward<Token>(token));
  }
  /// XREVRANGE: as xrange() over the same range, newest first.
  template <class Token = typename Base::default_token_type>
  auto xrevrange(std::string_view key, const XRangeOptions& range, Token&& token = {}) const {
    return this->template start<std::vector<StreamEntry>>(
        this->make_request("XREVRANGE", key, range.end, range.start, count_args(range.count)),
        std::forward<Token>(token));
  }
  /// XREAD over (stream, last id seen) pairs ("$": only entries added from now on): the
  /// streams that had newer entries; empty when none had (after `block`, if given).
  template <class Token = typename Base::default_token_type>
  auto xread(const std::vector<std::pair<std::string, std::string>>& streams,
             const XReadOptions& options, Token&& token = {}) const {
    return this->template start<std::vector<StreamEntries>>(
        detail::stream_read_request(this->make_request(), {}, {}, options, streams),
        std::forward<Token>(token), &detail::stream_entries_of);
  }
  /// XREADGROUP as `consumer` of `group`: ids are ">" (entries never delivered to the group)
  /// or an id (this consumer's pending entries after it). NOGROUP is errc::server_error.
  template <class Token = typename Base::default_token_type>
  auto xreadgroup(std::string_view group, std::string_view consumer,
                  const std::vector<std::pair<std::string, std::string>>& streams,
                  const XReadOptions& options, Token&& token = {}) const {
    return this->template start<std::vector<StreamEntries>>(
        detail::stream_read_request(this->make_request(), group, consumer, options, streams),
        std::forward<Token>(token), &detail::stream_entries_of);
  }
  /// XACK of one id or a range: how many were pending and are acknowledged now.
  template <Arg Ids, class Token = typename Base::default_token_type>
  auto xack(std::string_view key, std::string_view group, const Ids& ids,
            Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("XACK", key, group, ids),
                                              std::forward<Token>(token));
  }
  /// XGROUP CREATE at `id` ("$": new entries only, "0": the whole stream); `mkstream` creates
  /// a missing stream. An existing group is errc::server_error (BUSYGROUP).
  template <class Token = typename Base::default_token_type>
  auto xgroup_create(std::string_view key, std::string_view group, std::string_view id,
                     bool mkstream, Token&& token = {}) const {
    return this->template start<void>(this->make_request("XGROUP", "CREATE", key, group, id,
                                                         detail::flag_arg(mkstream, "MKSTREAM")),
                                      std::forward<Token>(token));
  }
  /// XAUTOCLAIM: hands to `consumer` up to `count` entries pending longer than `min_idle`,
  /// from id `start` on ("0-0": the beginning).
  template <class Token = typename Base::default_token_type>
  auto xautoclaim(std::string_view key, std::string_view group, std::string_view consumer,
                  std::chrono::milliseconds min_idle, std::string_view start, std::size_t count,
                  Token&& token = {}) const {
    return this->template start<XAutoClaimResult>(
        this->make_request("XAUTOCLAIM", key, group, consumer, min_idle.count(), start, "COUNT",
                           count),
        std::forward<Token>(token));
  }
  /// XPENDING key group: the summary; XPENDING key group start end count [consumer]: the
  /// entries. A missing group is errc::server_error (NOGROUP).
  template <class Token = typename Base::default_token_type>
  auto xpending(std::string_view key, std::string_view group, Token&& token = {}) const {
    return this->template start<XPendingSummary>(this->make_request("XPENDING", key, group),
                                                 std::forward<Token>(token));
  }
  /// XPENDING key group start end count [consumer]: the pending entries in the range.
  template <class Token = typename Base::default_token_type>
  auto xpending_entries(std::string_view key, std::string_view group, const XPendingRange& range,
                        Token&& token = {}) const {
    return this->template start<std::vector<PendingEntry>>(
        this->make_request("XPENDING", key, group, range.start, range.end, range.count,
                           detail::flag_arg(!range.consumer.empty(), range.consumer)),
        std::forward<Token>(token));
  }
  /// XTRIM: how many entries were removed. A trim with neither bound is
  /// Error(errc::invalid_argument), thrown at once.
  template <class Token = typename Base::default_token_type>
  auto xtrim(std::string_view key, const StreamTrim& trim, Token&& token = {}) const {
    return this->template start<std::int64_t>(
        this->make_request("XTRIM", key, detail::trim_args(trim, true)),
        std::forward<Token>(token));
  }
  /// XLEN: how many entries; 0 for a missing key.
  template <class Token = typename Base::default_token_type>
  auto xlen(std::string_view key, Token&& token = {}) const {
    return this->template start<std::int64_t>(this->make_request("XLEN", key),
                                              std::forward<Token>(token));
  }

 private:
  static std::vector<std::string> count_args(std::size_t count) {
    return count == 0 ? std::vector<std::string>{}
                      : std::vector<std::string>{"COUNT", std::to_string(count)};
  }
};

}  // namespace asyncredis
