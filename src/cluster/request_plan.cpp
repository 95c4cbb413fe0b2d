#include "cluster/request_plan.hpp"

#include <algorithm>
#include <charconv>
#include <functional>
#include <span>
#include <unordered_map>

#include "asyncredis/detail/resp_writer.hpp"
#include "asyncredis/error.hpp"
#include "cluster/command_table.hpp"
#include "cluster/slot.hpp"
#include "protocol/command_reader.hpp"

namespace asyncredis::detail {

namespace {

using Args = std::vector<std::string_view>;

void encode(std::string& out, std::span<const std::string_view> args) {
  append_array_header(out, args.size());
  for (auto arg : args) append_bulk(out, arg);
}

// The caller's keys with their slots, for a refusal: the first few are enough to see why.
[[noreturn]] void refuse_cross_slot(std::string_view what,
                                    const std::vector<std::string_view>& keys) {
  std::string message = std::string(what) + " needs all its keys in one hash slot, but ";
  constexpr std::size_t kShown = 6;
  for (std::size_t i = 0; i < keys.size() && i < kShown; ++i) {
    if (i != 0) message += ", ";
    message += "'" + std::string(keys[i].substr(0, 64)) + "' is in slot " +
               std::to_string(slot_of(keys[i]));
  }
  if (keys.size() > kShown) message += ", ... (" + std::to_string(keys.size()) + " keys)";
  message += ": give the keys a common hash tag ({user:1}:a, {user:1}:b)";
  throw Error(errc::cross_slot, message);
}

// The keys of `args` (indexes into it), or invalid_argument when the server's table cannot
// say where they are.
const CommandInfo* keys_of(const CommandTable& table, const Args& args,
                           std::vector<std::size_t>& keys) {
  keys.clear();
  const CommandInfo* info = table.find(args);
  if (info == nullptr) return nullptr;
  if (!info->key_indexes(args, keys)) {
    throw Error(errc::invalid_argument,
                upper_name(args[0]) +
                    ": its keys cannot be found in its arguments (a key count "
                    "that is not a number, or more keys than arguments)");
  }
  return info;
}

ReplyMerge merge_of(ResponsePolicy policy, bool split_by_key) {
  switch (policy) {
    case ResponsePolicy::one_succeeded:
      return ReplyMerge::first_ok;
    case ResponsePolicy::all_succeeded:
      return ReplyMerge::all_ok;
    case ResponsePolicy::agg_logical_and:
      return ReplyMerge::logical_and;
    case ResponsePolicy::agg_logical_or:
      return ReplyMerge::logical_or;
    case ResponsePolicy::agg_min:
      return ReplyMerge::min;
    case ResponsePolicy::agg_max:
      return ReplyMerge::max;
    case ResponsePolicy::agg_sum:
      return ReplyMerge::sum;
    case ResponsePolicy::unspecified:
    case ResponsePolicy::special:
      break;
  }
  return split_by_key ? ReplyMerge::by_position : ReplyMerge::concat;
}

class Planner {
 public:
  Planner(const CommandTable& table, std::size_t shard_count, std::vector<std::size_t>& keys)
      : table_(table), shard_count_(shard_count), keys_(keys) {}

  // `whole`: the command is the entire request, whose payload plan_request() moves into the
  // piece if it goes unsplit; its bytes are not copied here.
  void command(Plan& plan, const Args& args, std::string_view bytes, bool whole) {
    whole_ = whole;
    PlannedCommand planned;
    planned.first_piece = static_cast<std::uint32_t>(plan.pieces.size());
    const CommandInfo* info = keys_of(table_, args, keys_);
    if (is_named(args[0], "SCAN") && args.size() >= 2) {
      scan(plan, planned, args);
    } else if (info == nullptr) {  // unknown here: the server answers it (or says it is unknown)
      add(plan, bytes, Target{}, false);
    } else if (keys_.empty()) {
      keyless(plan, planned, *info, bytes);
    } else {
      keyed(plan, planned, *info, args, bytes);
    }
    planned.piece_count = static_cast<std::uint32_t>(plan.pieces.size()) - planned.first_piece;
    plan.commands.push_back(planned);
  }

  void transaction(Plan& plan, const Request& request) {
    CommandReader reader(request.bytes());
    Args args;
    std::vector<std::string_view> all_keys;
    std::uint32_t count = 0;
    bool one_slot = true;
    while (reader.next(args)) {
      ++count;
      keys_of(table_, args, keys_);
      for (auto index : keys_) {
        if (!all_keys.empty() && slot_of(args[index]) != slot_of(all_keys.front())) {
          one_slot = false;
        }
        all_keys.push_back(args[index]);
      }
    }
    if (count != request.reply_count) throw_unreadable();
    if (!one_slot) refuse_cross_slot("a request with MULTI", all_keys);
    Target target;
    if (!all_keys.empty()) target = Target{Target::Kind::slot, slot_of(all_keys.front())};
    plan.transaction = true;
    add(plan, request.bytes(), target, false);
    plan.pieces.back().reply_count = request.reply_count;
    plan.commands.push_back(PlannedCommand{});
  }

  [[noreturn]] static void throw_unreadable() {
    throw Error(errc::invalid_argument,
                "the request's commands could not be read for routing (not RESP arrays of bulk "
                "strings, or not as many as its replies)");
  }

 private:
  void add(Plan& plan, std::string_view bytes, Target target, bool readonly) {
    Piece piece;
    // The first piece of a whole request is filled by plan_request(): moved or copied.
    if (!whole_ || !plan.pieces.empty()) piece.payload.assign(bytes);
    piece.target = target;
    piece.readonly = readonly;
    plan.pieces.push_back(std::move(piece));
  }

  void keyless(Plan& plan, PlannedCommand& planned, const CommandInfo& info,
               std::string_view bytes) {
    const RequestPolicy request = info.request_policy();
    const bool everywhere =
        request == RequestPolicy::all_shards || request == RequestPolicy::all_nodes;
    // A reply the server calls "special" (INFO, RANDOMKEY, ...) has no merge: one node answers.
    if (!everywhere || info.response_policy() == ResponsePolicy::special || shard_count_ == 0) {
      add(plan, bytes, Target{}, info.readonly());
      return;
    }
    for (std::size_t shard = 0; shard < shard_count_; ++shard) {
      add(plan, bytes, Target{Target::Kind::shard, static_cast<std::uint16_t>(shard)}, false);
    }
    planned.merge = merge_of(info.response_policy(), false);
  }

  void keyed(Plan& plan, PlannedCommand& planned, const CommandInfo& info, const Args& args,
             std::string_view bytes) {
    const std::uint16_t first = slot_of(args[keys_.front()]);
    const bool one_slot = std::all_of(keys_.begin() + 1, keys_.end(), [&](std::size_t index) {
      return slot_of(args[index]) == first;
    });
    if (one_slot) {
      add(plan, bytes, Target{Target::Kind::slot, first}, info.readonly());
      return;
    }
    std::vector<std::string_view> named;
    for (auto index : keys_) named.push_back(args[index]);
    if (info.request_policy() != RequestPolicy::multi_shard ||
        info.response_policy() == ResponsePolicy::special) {
      refuse_cross_slot(upper_name(args[0]), named);
    }
    split(plan, planned, info, args);
  }

  void scan(Plan& plan, PlannedCommand& planned, const Args& args) {
    std::size_t shard = 0;
    std::string_view cursor = args[1];
    if (cursor != "0") {
      const auto colon = cursor.find(':');
      const auto parsed =
          std::from_chars(cursor.data(), cursor.data() + std::min(colon, cursor.size()), shard);
      if (colon == std::string_view::npos || parsed.ec != std::errc{} ||
          parsed.ptr != cursor.data() + colon || shard >= shard_count_ ||
          colon + 1 == cursor.size()) {
        throw Error(errc::invalid_argument,
                    "SCAN cursor '" + std::string(cursor.substr(0, 64)) +
                        "' is not one this cluster client returned (\"0\" or "
                        "\"<shard>:<cursor>\")");
      }
      cursor.remove_prefix(colon + 1);
    }
    if (shard_count_ == 0) throw_unreadable();
    Args node_args(args.begin(), args.end());
    node_args[1] = cursor;
    Piece piece;
    encode(piece.payload, node_args);
    piece.target = Target{Target::Kind::shard, static_cast<std::uint16_t>(shard)};
    piece.readonly = true;
    plan.pieces.push_back(std::move(piece));
    planned.merge = ReplyMerge::scan;
    planned.width = static_cast<std::uint32_t>(shard_count_);
  }

  // One command per slot: the arguments before the first key, then each key with the
  // arguments up to the next key (MSET's value), the keys in the caller's order.
  void split(Plan& plan, PlannedCommand& planned, const CommandInfo& info, const Args& args) {
    std::unordered_map<std::uint16_t, std::size_t> piece_of_slot;
    std::vector<Args> piece_args;
    std::vector<std::vector<std::uint32_t>> positions;
    const std::span<const std::string_view> prefix(args.data(), keys_.front());
    for (std::size_t k = 0; k < keys_.size(); ++k) {
      const std::uint16_t slot = slot_of(args[keys_[k]]);
      auto [it, added] = piece_of_slot.try_emplace(slot, piece_args.size());
      if (added) {
        piece_args.emplace_back(prefix.begin(), prefix.end());
        positions.emplace_back();
        Piece piece;
        piece.target = Target{Target::Kind::slot, slot};
        piece.readonly = info.readonly();
        plan.pieces.push_back(std::move(piece));
      }
      const std::size_t end = k + 1 < keys_.size() ? keys_[k + 1] : args.size();
      auto& group = piece_args[it->second];
      group.insert(group.end(), args.begin() + static_cast<std::ptrdiff_t>(keys_[k]),
                   args.begin() + static_cast<std::ptrdiff_t>(end));
      positions[it->second].push_back(static_cast<std::uint32_t>(k));
    }
    for (std::size_t i = 0; i < piece_args.size(); ++i) {
      Piece& piece = plan.pieces[planned.first_piece + i];
      encode(piece.payload, piece_args[i]);
      piece.positions = std::move(positions[i]);
    }
    planned.merge = merge_of(info.response_policy(), true);
    planned.width = static_cast<std::uint32_t>(keys_.size());
  }

  const CommandTable& table_;
  const std::size_t shard_count_;
  std::vector<std::size_t>& keys_;
  bool whole_ = false;
};

// ---- merging

Reply malformed(std::string_view what, const Reply& reply) {
  return Reply::error("ERR asyncredis cluster merge: expected " + std::string(what) +
                      " from every node, got " + to_debug_string(reply));
}

// Integers, or arrays of integers element by element (SCRIPT EXISTS), folded with `op`.
Reply fold(PieceReplies& replies, std::size_t first, std::size_t count,
           const std::function<std::int64_t(std::int64_t, std::int64_t)>& op) {
  Reply result = std::move(replies[first]);
  for (std::size_t i = first; i < first + count; ++i) {
    Reply& next = replies[i];
    if (i != first && next.is_error()) return std::move(next);
    if (result.is_error()) return result;
    if (i == first) continue;
    if (result.is_integer() && next.is_integer()) {
      result = Reply::integer(op(result.integer(), next.integer()));
      continue;
    }
    if (!result.is_array() || !next.is_array() ||
        result.elements().size() != next.elements().size()) {
      return malformed("integers or equally long arrays", next);
    }
    auto& mine = result.elements();
    for (std::size_t e = 0; e < mine.size(); ++e) {
      const Reply& theirs = next.elements()[e];
      if (!mine[e].is_integer() || !theirs.is_integer()) return malformed("integers", theirs);
      mine[e] = Reply::integer(op(mine[e].integer(), theirs.integer()));
    }
  }
  return result;
}

}  // namespace

Plan plan_request(Request& request, const CommandTable& table, std::size_t shard_count) {
  Plan plan;
  // Reused by every request of the thread: planning the usual request allocates nothing.
  thread_local std::vector<std::size_t> keys;
  thread_local Args args;
  Planner planner(table, shard_count, keys);
  // A request with a MULTI in it (transaction(), or a pipeline holding MULTI ... EXEC) goes
  // whole to one node: split, its MULTI and EXEC could reach different masters.
  if (request.reply_count > 1) {
    CommandReader scan(request.bytes());
    while (scan.next(args)) {
      if (is_named(args[0], "MULTI")) {
        planner.transaction(plan, request);
        return plan;
      }
    }
  }
  CommandReader reader(request.bytes());
  const char* start = request.payload.data();
  while (reader.next(args)) {
    const char* end = reader.position();
    const bool whole = request.reply_count == 1 && start == request.payload.data() &&
                       end == request.payload.data() + request.payload.size();
    planner.command(plan, args, std::string_view(start, static_cast<std::size_t>(end - start)),
                    whole);
    start = end;
  }
  if (plan.commands.size() != request.reply_count ||
      start != request.payload.data() + request.payload.size()) {
    Planner::throw_unreadable();
  }
  // The usual request, one command sent whole, keeps its bytes: the copy goes, not the
  // payload. (An encoded command is never empty: an empty piece is the deferred one.)
  for (auto& piece : plan.pieces) {
    if (!piece.payload.empty()) continue;
    if (plan.pieces.size() == 1) {
      piece.payload = std::move(request.payload);
    } else {
      piece.payload = request.payload;
    }
  }
  return plan;
}

Reply merge_replies(const PlannedCommand& command, const Plan::Pieces& pieces,
                    PieceReplies& replies) {
  const std::size_t first = command.first_piece;
  const std::size_t count = command.piece_count;
  switch (command.merge) {
    case ReplyMerge::single:
      return std::move(replies[first]);
    case ReplyMerge::by_position: {
      std::vector<Reply> merged(command.width);
      for (std::size_t i = first; i < first + count; ++i) {
        Reply& reply = replies[i];
        if (reply.is_error()) return std::move(reply);
        const auto& positions = pieces[i].positions;
        if (!reply.is_array() || reply.elements().size() != positions.size()) {
          return malformed("an array with one element per key", reply);
        }
        for (std::size_t e = 0; e < positions.size(); ++e) {
          merged[positions[e]] = std::move(reply.elements()[e]);
        }
      }
      return Reply::array(std::move(merged));
    }
    case ReplyMerge::concat: {
      std::vector<Reply> merged;
      for (std::size_t i = first; i < first + count; ++i) {
        Reply& reply = replies[i];
        if (reply.is_error()) return std::move(reply);
        if (!reply.is_array()) return malformed("an array", reply);
        for (auto& element : reply.elements()) merged.push_back(std::move(element));
      }
      return Reply::array(std::move(merged));
    }
    case ReplyMerge::all_ok:
      for (std::size_t i = first; i < first + count; ++i) {
        if (replies[i].is_error()) return std::move(replies[i]);
      }
      return std::move(replies[first]);
    case ReplyMerge::first_ok:
      for (std::size_t i = first; i < first + count; ++i) {
        if (!replies[i].is_error()) return std::move(replies[i]);
      }
      return std::move(replies[first]);
    case ReplyMerge::sum:
      return fold(replies, first, count, std::plus<std::int64_t>());
    case ReplyMerge::logical_and:
      return fold(replies, first, count,
                  [](std::int64_t a, std::int64_t b) -> std::int64_t { return a != 0 && b != 0; });
    case ReplyMerge::logical_or:
      return fold(replies, first, count,
                  [](std::int64_t a, std::int64_t b) -> std::int64_t { return a != 0 || b != 0; });
    case ReplyMerge::min:
      return fold(replies, first, count,
                  [](std::int64_t a, std::int64_t b) { return std::min(a, b); });
    case ReplyMerge::max:
      return fold(replies, first, count,
                  [](std::int64_t a, std::int64_t b) { return std::max(a, b); });
    case ReplyMerge::scan: {
      Reply& reply = replies[first];
      if (reply.is_error()) return std::move(reply);
      auto& parts = reply.elements();
      if (!reply.is_array() || parts.size() != 2 || !parts[0].is_string()) {
        return malformed("a SCAN reply [cursor, keys]", reply);
      }
      const std::size_t shard = pieces[first].target.value;
      const std::string& next = parts[0].str();
      std::string cursor;
      if (next != "0") {
        cursor = std::to_string(shard) + ":" + next;
      } else if (shard + 1 < command.width) {
        cursor = std::to_string(shard + 1) + ":0";
      } else {
        cursor = "0";
      }
      parts[0] = Reply::bulk_string(std::move(cursor));
      return std::move(reply);
    }
  }
  return std::move(replies[first]);
}

}  // namespace asyncredis::detail
