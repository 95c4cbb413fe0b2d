// What the cluster client must know of each command to route it, read from the server's own
// COMMAND reply: where its keys are (key specifications, Redis 7; first/last/step before),
// which nodes it goes to and how their replies combine (tips), and whether it only reads.
// Plain data in and out: no sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "asyncredis/reply.hpp"

namespace asyncredis::detail {

// COMMAND's tips (Redis 7), "request_policy:..." / "response_policy:...". keyed: no
// request_policy tip (routed by its keys; keyless ones go to any master). A policy this
// version does not know reads as special: the caller must not guess.
enum class RequestPolicy : std::uint8_t { keyed, all_nodes, all_shards, multi_shard, special };
enum class ResponsePolicy : std::uint8_t {
  unspecified,
  one_succeeded,
  all_succeeded,
  agg_logical_and,
  agg_logical_or,
  agg_min,
  agg_max,
  agg_sum,
  special
};

class CommandInfo {
 public:
  RequestPolicy request_policy() const noexcept { return request_policy_; }
  ResponsePolicy response_policy() const noexcept { return response_policy_; }
  // The flags have "readonly".
  bool readonly() const noexcept { return readonly_; }

  // Appends to `out` the index into `args` of each of the command's keys, in argument order
  // (args[0] is the name; for a container command such as "XINFO STREAM" args[1] is the
  // subcommand). Uses the key specifications as Redis does (begin_search index, or keyword
  // with startfrom; find_keys range with lastkey (negative: from the end), keystep and limit,
  // or keynum with keynumidx, firstkey and keystep); without specifications first/last/step.
  // Keys a too short `args` would have are left out (the server refuses such a request).
  // Where Redis itself falls back to code (SORT, SORT_RO and MIGRATE, whose specifications are
  // "unknown" or "incomplete"), the same rules. Returns false, `out` unchanged, when the
  // positions cannot be determined: a specification of a type it does not know, a keynum that
  // is not a number or points past the end, a command with movable keys and no
  // specifications (servers before 7). The caller refuses the request then.
  bool key_indexes(std::span<const std::string_view> args, std::vector<std::size_t>& out) const;

 private:
  friend class CommandTable;
  friend struct CommandParser;

  // One key specification of COMMAND, its numbers checked when parsed.
  struct KeySpec {
    enum class Begin : std::uint8_t { index, keyword, unknown } begin = Begin::unknown;
    enum class Find : std::uint8_t { range, keynum, unknown } find = Find::unknown;
    std::int64_t index = 0;      // Begin::index: the position; Begin::keyword: startfrom
    std::string keyword;         // Begin::keyword
    std::int64_t lastkey = 0;    // Find::range
    std::int64_t limit = 0;      // Find::range
    std::int64_t keynumidx = 0;  // Find::keynum
    std::int64_t firstkey = 0;   // Find::keynum
    std::int64_t keystep = 1;    // both
    bool incomplete = false;     // flag "incomplete": may miss keys
    bool not_key = false;        // flag "not_key": an argument that only looks like a key
  };
  // The commands whose keys Redis finds with code of its own when the specifications fail.
  enum class KeyRule : std::uint8_t { specs, sort, sort_ro, migrate };

  // How applying `spec` went: the keys were appended, or the positions are unknowable.
  bool apply(const KeySpec& spec, std::span<const std::string_view> args,
             std::vector<std::size_t>& out) const;
  void legacy_keys(std::span<const std::string_view> args, std::vector<std::size_t>& out) const;
  void rule_keys(std::span<const std::string_view> args, std::vector<std::size_t>& out) const;

  RequestPolicy request_policy_ = RequestPolicy::keyed;
  ResponsePolicy response_policy_ = ResponsePolicy::unspecified;
  bool readonly_ = false;
  bool movable_keys_ = false;
  bool has_specs_ = false;  // the reply had key specifications (Redis 7), even an empty list
  KeyRule rule_ = KeyRule::specs;
  std::int64_t first_ = 0;  // the legacy key range
  std::int64_t last_ = 0;
  std::int64_t step_ = 0;
  std::vector<KeySpec> specs_;
};

class CommandTable {
 public:
  // Parses the reply of COMMAND (every command, subcommands included). Throws
  // Error(errc::protocol_error) saying what is malformed. Skips only nil entries (what COMMAND
  // INFO gives for a name it does not know): a command that is left out is unknown to find(),
  // which the caller refuses, so skipping never misroutes.
  static CommandTable parse(const Reply& reply);

  // The command `args` names (case-insensitive; a container command's subcommand as args[1]);
  // null when unknown, or when a container's subcommand is. A container named alone is
  // returned itself (the server answers it with an arity error). Does not allocate.
  const CommandInfo* find(std::span<const std::string_view> args) const;
  // How many commands, not counting subcommands (what COMMAND COUNT says).
  std::size_t size() const noexcept { return commands_.size(); }

 private:
  // ASCII case-insensitive, and transparent: find() looks up the caller's string_view.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept;
  };
  struct NameEqual {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept;
  };
  template <class T>
  using NameMap = std::unordered_map<std::string, T, NameHash, NameEqual>;

  struct Entry {
    CommandInfo info;
    NameMap<CommandInfo> subcommands;  // by the part after '|' ("load" of "script|load")
  };

  friend struct CommandParser;

  NameMap<Entry> commands_;
};

}  // namespace asyncredis::detail
