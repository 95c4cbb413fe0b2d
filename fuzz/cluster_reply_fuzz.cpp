// libFuzzer target for what a cluster client reads from its nodes: CLUSTER SHARDS, CLUSTER
// SLOTS and COMMAND replies, and the requests looked up in the command table they make. The
// servers are not trusted, so besides crashes, leaks and undefined behaviour this checks that
// every refusal is Error(errc::protocol_error), that a slot map holds together (and still does
// after MOVED), and that key_indexes() names only arguments that exist, in order, once each.
//
// Input: byte 0: bit 0 reads CLUSTER SHARDS with tls. The rest is a RESP2 stream, read as a
// server's bytes are (fuzz/reply_reader_fuzz.cpp checks that reading). Its first reply goes to
// every parser; each later one is a request for the command table the first one made (an
// array of strings: its arguments) and a MOVED for the slot maps (an integer: the low 16 bits
// the slot, the next 16 the new master's port). Seeds are in fuzz/corpus/cluster_reply/.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "asyncredis/error.hpp"
#include "asyncredis/reply.hpp"
#include "cluster/command_table.hpp"
#include "cluster/slot.hpp"
#include "cluster/topology.hpp"
#include "protocol/reply_reader.hpp"

namespace {

using asyncredis::Error;
using asyncredis::Reply;
using asyncredis::detail::ClusterTopology;
using asyncredis::detail::CommandInfo;
using asyncredis::detail::CommandTable;
using asyncredis::detail::kClusterSlots;
using asyncredis::detail::NodeAddress;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "\ncluster_reply_fuzz: %s\n", what.c_str());
  std::abort();
}

// Runs `parse`; a throw must be a protocol_error with a message, nothing else may escape.
template <class Parse>
auto checked(const char* parser, Parse&& parse) -> std::optional<decltype(parse())> {
  try {
    return parse();
  } catch (const Error& e) {
    if (e.code() != asyncredis::make_error_code(asyncredis::errc::protocol_error)) {
      fail(std::string(parser) + " threw another error: " + e.what());
    }
    if (e.message().empty()) fail(std::string(parser) + " threw without a message");
    return std::nullopt;
  }
}

// The slot map's invariants: shard_of() points into shards() or says unserved, served_slots()
// counts the served ones, every shard serves a slot, nodes() has no repeats.
void check_topology(const ClusterTopology& topology) {
  const std::size_t shards = topology.shards().size();
  std::vector<bool> used(shards, false);
  std::size_t served = 0;
  for (std::uint32_t slot = 0; slot < kClusterSlots; ++slot) {
    const std::uint16_t shard = topology.shard_of(static_cast<std::uint16_t>(slot));
    if (shard == ClusterTopology::kNoShard) continue;
    if (shard >= shards) fail("shard_of() points past shards()");
    used[shard] = true;
    ++served;
  }
  if (served != topology.served_slots()) fail("served_slots() miscounts");
  for (std::size_t i = 0; i < shards; ++i) {
    if (!used[i]) fail("a shard serves no slot");
  }
  if (topology.shard_of(kClusterSlots) != ClusterTopology::kNoShard) fail("slot 16384 served");
  std::set<std::string> seen;
  for (const NodeAddress& node : topology.nodes()) {
    if (!seen.insert(node.host + ":" + std::to_string(node.port)).second) {
      fail("nodes() repeats " + node.host);
    }
  }
}

void apply_moved(std::optional<ClusterTopology>& topology, std::int64_t value) {
  if (!topology) return;
  const auto slot = static_cast<std::uint16_t>(value & 0xFFFF);
  const auto port = static_cast<std::uint16_t>((value >> 16) & 0xFFFF);
  const std::size_t served = topology->served_slots();
  const bool was_served = topology->shard_of(slot) != ClusterTopology::kNoShard;
  topology->move_slot(slot, NodeAddress{"fuzz", port});
  check_topology(*topology);
  if (slot >= kClusterSlots) {
    if (topology->served_slots() != served) fail("a slot out of range was moved");
    return;
  }
  const std::uint16_t shard = topology->shard_of(slot);
  if (shard == ClusterTopology::kNoShard ||
      !(topology->shards()[shard].master == NodeAddress{"fuzz", port})) {
    fail("a moved slot is not served by its new master");
  }
  if (topology->served_slots() != served + (was_served ? 0 : 1)) fail("MOVED miscounted");
}

// A request looked up in the table: key indexes point at real arguments after the name, in
// increasing order; `out` keeps what it held, and a refusal adds nothing.
void check_request(const CommandTable& table, const Reply& request) {
  std::vector<std::string_view> args;
  for (const Reply& arg : request.elements()) {
    if (!arg.is_string()) return;
    args.push_back(arg.str());
  }
  const CommandInfo* info = table.find(args);
  if (info == nullptr) return;
  (void)info->request_policy();
  (void)info->response_policy();
  (void)info->readonly();
  std::vector<std::size_t> out = {7};
  if (!info->key_indexes(args, out)) {
    if (out.size() != 1 || out[0] != 7) fail("key_indexes() changed `out` and refused");
    return;
  }
  if (out[0] != 7) fail("key_indexes() changed what `out` held");
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (out[i] == 0 || out[i] >= args.size()) fail("a key index outside the arguments");
    if (i > 1 && out[i] <= out[i - 1]) fail("key indexes out of order or repeated");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool tls = (data[0] & 1) != 0;
  asyncredis::detail::ReaderLimits limits;
  limits.max_reply_size = std::size_t{1} << 20;
  asyncredis::detail::ReplyReader reader(limits);
  reader.feed(reinterpret_cast<const char*>(data) + 1, size - 1);

  Reply reply;
  if (reader.next(reply) != asyncredis::detail::ReplyReader::Status::reply) return 0;
  const NodeAddress asked{"asked", 7000};
  std::optional<ClusterTopology> shards =
      checked("from_shards", [&] { return ClusterTopology::from_shards(reply, asked, tls); });
  std::optional<ClusterTopology> slots =
      checked("from_slots", [&] { return ClusterTopology::from_slots(reply, asked); });
  const std::optional<CommandTable> table =
      checked("CommandTable::parse", [&] { return CommandTable::parse(reply); });
  if (shards) check_topology(*shards);
  if (slots) check_topology(*slots);

  for (Reply request; reader.next(request) == asyncredis::detail::ReplyReader::Status::reply;) {
    if (request.is_integer()) {
      apply_moved(shards, request.integer());
      apply_moved(slots, request.integer());
    } else if (table && request.is_array()) {
      check_request(*table, request);
    }
  }
  return 0;
}
