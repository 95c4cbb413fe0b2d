// How a request becomes what a Redis Cluster can run: every command goes, whole, to the node
// of its keys' slot; a multi-key command whose keys span slots (MGET, DEL, MSET, ...) is split
// into one command per slot; a command the server marks for every shard (FLUSHDB, DBSIZE, PING,
// SCRIPT LOAD, ...) goes to each master. Afterwards the replies are merged back into the ones
// the caller asked for, in the caller's order. No sockets here: plan_request() and
// merge_replies() are pure and unit-tested.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "asyncredis/detail/request.hpp"
#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

class CommandTable;

// Where a piece goes.
struct Target {
  enum class Kind : std::uint8_t {
    slot,   // the owner of slot `value`
    shard,  // the master of shard `value` (a command for every shard)
    any,    // any master (a keyless command)
  };
  Kind kind = Kind::any;
  std::uint16_t value = 0;
};

// One command as it is sent: part of a caller's command, or all of it.
struct Piece {
  std::string payload;            // one command in RESP (a transaction: MULTI ... EXEC)
  std::uint32_t reply_count = 1;  // a transaction: its commands + 2
  Target target;
  bool readonly = false;                 // may go to a replica (read_from)
  std::vector<std::uint32_t> positions;  // ReplyMerge::by_position: where each element goes
};

// How the replies of a command's pieces become the caller's one reply. After the server's
// response_policy tips (COMMAND), where a split command has one.
enum class ReplyMerge : std::uint8_t {
  single,       // one piece: its reply as it is
  by_position,  // arrays put back in the caller's key order (MGET)
  concat,       // arrays one after another, in shard order (KEYS)
  sum,          // integers added (DEL, EXISTS, DBSIZE); element by element for arrays
  all_ok,       // the first error if any piece failed, else the first piece's reply (MSET)
  first_ok,     // the first reply that is not an error, else the first error
  logical_and,  // integers (or arrays of them, element by element) as booleans
  logical_or,
  min,
  max,
  scan,  // SCAN on one master: its cursor made into the cluster's (see plan_request)
};

struct PlannedCommand {
  ReplyMerge merge = ReplyMerge::single;
  std::uint32_t first_piece = 0;
  std::uint32_t piece_count = 1;
  std::uint32_t width = 0;  // by_position: the merged array's size; scan: how many shards
};

// Most requests are one command sent whole: one of each, without an allocation.
struct Plan {
  boost::container::small_vector<PlannedCommand, 1> commands;  // one per reply the caller awaits
  using Pieces = boost::container::small_vector<Piece, 1>;
  Pieces pieces;
  // A request with MULTI (a transaction, or a pipeline holding one): one piece, all its keys
  // in one slot, the caller's replies as they come.
  bool transaction = false;
};

// SCAN walks the masters one after another: the cluster's cursor is "0" to start, then
// "<shard>:<that master's cursor>", and "0" once the last master is done; MATCH, COUNT and
// TYPE go to every master as given. A resharding during the walk may show a key twice or
// not at all (the slot moved behind or ahead of the walk).
//
// Plans `request` for a cluster with `shard_count` shards; a command sent whole takes the
// request's payload (moved out of it), others copy their bytes. Throws Error(errc::cross_slot)
// naming the keys when a transaction or a command that cannot be split has keys in several
// slots, and Error(errc::invalid_argument) when a command's keys cannot be found (a malformed
// key count) or the payload is not a list of commands.
Plan plan_request(Request& request, const CommandTable& table, std::size_t shard_count);

// The caller's reply for `command` from its pieces' replies (`replies[i]` answers
// `pieces[i]`; they are moved from). An error reply of any piece where the merge cannot
// use it becomes the result.
using PieceReplies = boost::container::small_vector<Reply, 1>;
Reply merge_replies(const PlannedCommand& command, const Plan::Pieces& pieces,
                    PieceReplies& replies);

}  // namespace asyncredis::detail
