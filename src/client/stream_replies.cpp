// The conversions of the stream commands' replies (StreamEntry, XREAD's per-stream batches,
// XAUTOCLAIM, XPENDING) and XREAD's request.
#include <string>
#include <utility>
#include <vector>

#include "asyncredis/commands/streams.hpp"
#include "asyncredis/error.hpp"

namespace asyncredis {

namespace {

// Checks that `reply` is an array of `size` elements and returns them.
std::vector<Reply>& elements_of(Reply& reply, std::string_view expected, std::size_t size) {
  detail::check_not_error(reply);
  if (!reply.is_array()) detail::throw_unexpected(expected, reply);
  if (reply.elements().size() != size) {
    detail::throw_unexpected_size(expected, size, reply.elements().size());
  }
  return reply.elements();
}

}  // namespace

StreamEntry FromReply<StreamEntry>::convert(Reply&& reply) {
  auto& parts = elements_of(reply, "stream entry [id, [field, value, ...]]", 2);
  StreamEntry entry;
  entry.id = std::move(parts[0]).as<std::string>();
  // An entry deleted while pending comes back to XREADGROUP with nil fields.
  if (!parts[1].is_nil()) {
    entry.fields = detail::pairs_from_flat_array<std::string, std::string>(std::move(parts[1]));
  }
  return entry;
}

StreamEntries FromReply<StreamEntries>::convert(Reply&& reply) {
  auto& parts = elements_of(reply, "stream [name, [entries]]", 2);
  return {std::move(parts[0]).as<std::string>(),
          std::move(parts[1]).as<std::vector<StreamEntry>>()};
}

XAutoClaimResult FromReply<XAutoClaimResult>::convert(Reply&& reply) {
  // Redis 7 answers [next id, entries, deleted ids].
  auto& parts = elements_of(reply, "XAUTOCLAIM reply [next id, entries, deleted ids]", 3);
  return {std::move(parts[0]).as<std::string>(), std::move(parts[1]).as<std::vector<StreamEntry>>(),
          std::move(parts[2]).as<std::vector<std::string>>()};
}

XPendingSummary FromReply<XPendingSummary>::convert(Reply&& reply) {
  auto& parts = elements_of(reply, "XPENDING summary [count, lowest, highest, consumers]", 4);
  XPendingSummary summary;
  summary.count = std::move(parts[0]).as<std::int64_t>();
  summary.lowest_id = std::move(parts[1]).as<std::optional<std::string>>();
  summary.highest_id = std::move(parts[2]).as<std::optional<std::string>>();
  if (!parts[3].is_nil()) {
    summary.consumers = std::move(parts[3]).as<std::vector<std::pair<std::string, std::int64_t>>>();
  }
  return summary;
}

PendingEntry FromReply<PendingEntry>::convert(Reply&& reply) {
  auto& parts = elements_of(reply, "pending entry [id, consumer, idle, deliveries]", 4);
  return {std::move(parts[0]).as<std::string>(), std::move(parts[1]).as<std::string>(),
          std::chrono::milliseconds(std::move(parts[2]).as<std::int64_t>()),
          std::move(parts[3]).as<std::int64_t>()};
}

namespace detail {

Request stream_read_request(Request&& base, std::string_view group, std::string_view consumer,
                            const XReadOptions& options,
                            const std::vector<std::pair<std::string, std::string>>& streams) {
  if (streams.empty()) {
    throw Error(errc::invalid_argument, "XREAD: give at least one (stream, id) pair");
  }
  std::vector<std::string> args;
  args.reserve(8 + 2 * streams.size());
  if (group.empty()) {
    args.emplace_back("XREAD");
  } else {
    args.insert(args.end(), {"XREADGROUP", "GROUP", std::string(group), std::string(consumer)});
  }
  if (options.count != 0) args.insert(args.end(), {"COUNT", std::to_string(options.count)});
  if (options.block.has_value()) {
    args.insert(args.end(), {"BLOCK", std::to_string(options.block->count())});
    // The policy of the connection decides: a RedisClient refuses a blocking read.
    base.check_commands = true;
    extend_timeout_for_block(base, *options.block);
  }
  if (options.no_ack && !group.empty()) args.emplace_back("NOACK");
  args.emplace_back("STREAMS");
  for (const auto& stream : streams) args.push_back(stream.first);
  for (const auto& stream : streams) args.push_back(stream.second);
  encode_command(base.payload, args);
  return std::move(base);
}

std::vector<StreamEntries> stream_entries_of(Reply&& reply) {
  if (reply.is_nil()) return {};
  return std::move(reply).as<std::vector<StreamEntries>>();
}

}  // namespace detail
}  // namespace asyncredis
