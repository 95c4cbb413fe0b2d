// The command table of a cluster client (see command_table.hpp): COMMAND's reply parsed once,
// then looked up for every request, so find() and key_indexes() allocate nothing but `out`.
#include "cluster/command_table.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "asyncredis/error.hpp"

namespace asyncredis::detail {

namespace {

// Positions and counts in a key specification are small (a command's arguments); anything
// beyond this is a hostile or broken reply, and bounding it keeps the arithmetic from
// overflowing.
constexpr std::int64_t kMaxPosition = std::int64_t{1} << 30;

char lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equal_ignoring_case(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower(c);
  return out;
}

[[noreturn]] void malformed(const std::string& what) {
  throw Error(errc::protocol_error, "COMMAND reply: " + what);
}

constexpr std::array<std::pair<std::string_view, RequestPolicy>, 4> kRequestPolicies{{
    {"all_nodes", RequestPolicy::all_nodes},
    {"all_shards", RequestPolicy::all_shards},
    {"multi_shard", RequestPolicy::multi_shard},
    {"special", RequestPolicy::special},
}};
constexpr std::array<std::pair<std::string_view, ResponsePolicy>, 8> kResponsePolicies{{
    {"one_succeeded", ResponsePolicy::one_succeeded},
    {"all_succeeded", ResponsePolicy::all_succeeded},
    {"agg_logical_and", ResponsePolicy::agg_logical_and},
    {"agg_logical_or", ResponsePolicy::agg_logical_or},
    {"agg_min", ResponsePolicy::agg_min},
    {"agg_max", ResponsePolicy::agg_max},
    {"agg_sum", ResponsePolicy::agg_sum},
    {"special", ResponsePolicy::special},
}};

// The policy `name` stands for; `unknown` (special) for a name this version does not know.
template <class Policy, std::size_t N>
Policy policy_named(const std::array<std::pair<std::string_view, Policy>, N>& table,
                    std::string_view name, Policy unknown) {
  for (const auto& [text, policy] : table) {
    if (text == name) return policy;
  }
  return unknown;
}

// Calls visit(name, value) for each pair of a RESP2 map (an array of name, value pairs).
template <class Visit>
void for_each_pair(const Reply& map, const std::string& what, Visit&& visit) {
  const std::vector<Reply>& e = map.elements();
  if (!map.is_array() || e.size() % 2 != 0)
    malformed(what + " is not a map: " + to_debug_string(map));
  for (std::size_t i = 0; i < e.size(); i += 2) {
    if (!e[i].is_string())
      malformed(what + " has a name that is no string: " + to_debug_string(map));
    visit(e[i].str(), e[i + 1]);
  }
}

std::int64_t number_in(const Reply& value, std::int64_t min, const std::string& what) {
  if (!value.is_integer() || value.integer() < min || value.integer() > kMaxPosition ||
      value.integer() < -kMaxPosition) {
    malformed(what + " is not a number from " + std::to_string(min) + ": " +
              to_debug_string(value));
  }
  return value.integer();
}

// Each element of an array of strings (flags, tips, ACL categories).
template <class Visit>
void for_each_string(const Reply& list, const std::string& what, Visit&& visit) {
  if (!list.is_array()) malformed(what + " is not a list: " + to_debug_string(list));
  for (const Reply& item : list.elements()) {
    if (!item.is_string()) malformed(what + " holds " + to_debug_string(item));
    visit(item.str());
  }
}

}  // namespace

// Fills CommandInfo's and CommandTable's private members from the reply.
struct CommandParser {
  using KeySpec = CommandInfo::KeySpec;

  // The "spec" of a {type, spec} map whose type is `a` or `b` (then in `type`); null for
  // another type ("unknown", or one newer than this code), which key_indexes() cannot apply.
  static const Reply* known_spec(const Reply& value, const std::string& what, std::string_view a,
                                 std::string_view b, std::string& type) {
    const Reply* detail = nullptr;
    for_each_pair(value, what, [&](const std::string& name, const Reply& v) {
      if (name == "type" && v.is_string()) type = v.str();
      if (name == "spec") detail = &v;
    });
    if (type != a && type != b) return nullptr;
    if (detail == nullptr) malformed(what + " of type " + type + " has no spec");
    return detail;
  }

  static void begin_search(const Reply& value, KeySpec& spec, const std::string& what) {
    std::string type;
    const Reply* detail = known_spec(value, what + " begin_search", "index", "keyword", type);
    if (detail == nullptr) return;  // Begin::unknown
    bool has_position = false;
    for_each_pair(*detail, what + " begin_search spec",
                  [&](const std::string& name, const Reply& v) {
                    if (name == "index" && type == "index") {
                      spec.index = number_in(v, 1, what + " index");
                      has_position = true;
                    } else if (name == "startfrom" && type == "keyword") {
                      spec.index = number_in(v, -kMaxPosition, what + " startfrom");
                      has_position = true;
                    } else if (name == "keyword" && type == "keyword") {
                      if (!v.is_string() || v.str().empty())
                        malformed(what + " has an empty keyword");
                      spec.keyword = v.str();
                    }
                  });
    if (!has_position || (type == "keyword" && spec.keyword.empty())) {
      malformed(what + " lacks the " + type + " of its begin_search");
    }
    spec.begin = type == "index" ? KeySpec::Begin::index : KeySpec::Begin::keyword;
  }

  static void find_keys(const Reply& value, KeySpec& spec, const std::string& what) {
    std::string type;
    const Reply* detail = known_spec(value, what + " find_keys", "range", "keynum", type);
    if (detail == nullptr) return;  // Find::unknown
    int seen = 0;                   // each of the type's three numbers is required
    for_each_pair(*detail, what + " find_keys spec", [&](const std::string& name, const Reply& v) {
      if (name == "keystep") {
        spec.keystep = number_in(v, 1, what + " keystep");
      } else if (type == "range" && name == "lastkey") {
        spec.lastkey = number_in(v, -kMaxPosition, what + " lastkey");
      } else if (type == "range" && name == "limit") {
        spec.limit = number_in(v, 0, what + " limit");
      } else if (type == "keynum" && name == "keynumidx") {
        spec.keynumidx = number_in(v, 0, what + " keynumidx");
      } else if (type == "keynum" && name == "firstkey") {
        spec.firstkey = number_in(v, 0, what + " firstkey");
      } else {
        return;
      }
      ++seen;
    });
    if (seen != 3) malformed(what + " lacks a number of its find_keys " + type);
    spec.find = type == "range" ? KeySpec::Find::range : KeySpec::Find::keynum;
  }

  static KeySpec key_spec(const Reply& map, const std::string& what) {
    KeySpec spec;
    bool has_begin = false;
    bool has_find = false;
    for_each_pair(map, what, [&](const std::string& name, const Reply& v) {
      if (name == "flags") {
        for_each_string(v, what + " flags", [&](const std::string& flag) {
          spec.incomplete = spec.incomplete || equal_ignoring_case(flag, "incomplete");
          spec.not_key = spec.not_key || equal_ignoring_case(flag, "not_key");
        });
      } else if (name == "begin_search") {
        begin_search(v, spec, what);
        has_begin = true;
      } else if (name == "find_keys") {
        find_keys(v, spec, what);
        has_find = true;
      }
    });
    if (!has_begin || !has_find) malformed(what + " lacks begin_search or find_keys");
    return spec;
  }

  // One entry: [name, arity, flags, first, last, step, ACL categories, tips, key specs,
  // subcommands]; servers before 7 send only the first six or seven.
  static CommandInfo info(const Reply& entry, std::string& name) {
    const std::vector<Reply>& e = entry.elements();
    if (!entry.is_array() || e.size() < 6 || !e[0].is_string() || e[0].str().empty()) {
      malformed("an entry is not [name, arity, flags, first, last, step, ...]: " +
                to_debug_string(entry));
    }
    name = lowered(e[0].str());
    const std::string what = "command " + name;
    CommandInfo info;
    if (!e[1].is_integer()) malformed(what + " has no arity");
    for_each_string(e[2], what + " flags", [&](const std::string& flag) {
      info.readonly_ = info.readonly_ || flag == "readonly";
      info.movable_keys_ = info.movable_keys_ || flag == "movablekeys";
    });
    info.first_ = number_in(e[3], 0, what + " first key");
    info.last_ = number_in(e[4], -kMaxPosition, what + " last key");
    info.step_ = number_in(e[5], info.first_ > 0 ? 1 : 0, what + " key step");
    if (e.size() > 7) {
      for_each_string(e[7], what + " tips", [&](const std::string& tip) {
        const std::string_view text = tip;
        if (text.starts_with("request_policy:")) {
          info.request_policy_ =
              policy_named(kRequestPolicies, text.substr(15), RequestPolicy::special);
        } else if (text.starts_with("response_policy:")) {
          info.response_policy_ =
              policy_named(kResponsePolicies, text.substr(16), ResponsePolicy::special);
        }
      });
    }
    if (e.size() > 8) {
      if (!e[8].is_array()) malformed(what + " key specs are not a list");
      info.has_specs_ = true;
      for (std::size_t i = 0; i < e[8].elements().size(); ++i) {
        info.specs_.push_back(
            key_spec(e[8].elements()[i], what + " key spec " + std::to_string(i)));
      }
    }
    if (name == "sort") info.rule_ = CommandInfo::KeyRule::sort;
    if (name == "sort_ro") info.rule_ = CommandInfo::KeyRule::sort_ro;
    if (name == "migrate") info.rule_ = CommandInfo::KeyRule::migrate;
    return info;
  }

  static void add(CommandTable& table, const Reply& entry) {
    std::string name;
    CommandTable::Entry parsed{info(entry, name), {}};
    const std::vector<Reply>& e = entry.elements();
    if (e.size() > 9) {
      if (!e[9].is_array()) malformed("command " + name + " subcommands are not a list");
      for (const Reply& sub : e[9].elements()) {
        std::string full;
        CommandInfo info = CommandParser::info(sub, full);
        // "script|load" under "script"; a subcommand of its own would be one level too deep.
        if (full.size() <= name.size() + 1 || !full.starts_with(name) || full[name.size()] != '|') {
          malformed("subcommand " + full + " is not of the form " + name + "|name");
        }
        if (sub.elements().size() > 9 && !sub.elements()[9].elements().empty()) {
          malformed("subcommand " + full + " has subcommands");
        }
        if (!parsed.subcommands.emplace(full.substr(name.size() + 1), std::move(info)).second) {
          malformed("subcommand " + full + " is listed twice");
        }
      }
    }
    if (!table.commands_.emplace(name, std::move(parsed)).second) {
      malformed("command " + name + " is listed twice");
    }
  }
};

CommandTable CommandTable::parse(const Reply& reply) {
  if (!reply.is_array()) malformed("not a list but " + to_debug_string(reply));
  CommandTable table;
  for (const Reply& entry : reply.elements()) {
    if (entry.is_nil()) continue;  // see the header: an unknown command is never routed
    CommandParser::add(table, entry);
  }
  return table;
}

std::size_t CommandTable::NameHash::operator()(std::string_view name) const noexcept {
  // FNV-1a over the lowered bytes: equal names in any case hash alike.
  std::uint64_t hash = 14695981039346656037ull;
  for (const char c : name) {
    hash ^= static_cast<unsigned char>(lower(c));
    hash *= 1099511628211ull;
  }
  return static_cast<std::size_t>(hash);
}

bool CommandTable::NameEqual::operator()(std::string_view a, std::string_view b) const noexcept {
  return equal_ignoring_case(a, b);
}

const CommandInfo* CommandTable::find(std::span<const std::string_view> args) const {
  if (args.empty()) return nullptr;
  const auto command = commands_.find(args[0]);
  if (command == commands_.end()) return nullptr;
  const Entry& entry = command->second;
  if (entry.subcommands.empty() || args.size() < 2) return &entry.info;
  const auto sub = entry.subcommands.find(args[1]);
  return sub == entry.subcommands.end() ? nullptr : &sub->second;
}

bool CommandInfo::key_indexes(std::span<const std::string_view> args,
                              std::vector<std::size_t>& out) const {
  const std::size_t start = out.size();
  if (!has_specs_) {
    // Before Redis 7 a command with movable keys has a first/last/step that misses some.
    if (movable_keys_) return false;
    legacy_keys(args, out);
  } else {
    for (const KeySpec& spec : specs_) {
      if (spec.not_key) continue;
      if (apply(spec, args, out)) continue;
      // As Redis does: when a specification fails, code that knows the command decides.
      out.resize(start);
      if (rule_ == KeyRule::specs) return false;
      rule_keys(args, out);
      break;
    }
  }
  // Specifications list their keys spec by spec, not necessarily in argument order.
  const auto begin = out.begin() + static_cast<std::ptrdiff_t>(start);
  if (!std::is_sorted(begin, out.end())) std::sort(begin, out.end());
  out.erase(std::unique(begin, out.end()), out.end());
  return true;
}

// Mirrors getKeysUsingKeySpecs() of Redis 7.0 (db.c), but leaves out the keys of a too short
// request instead of failing it.
bool CommandInfo::apply(const KeySpec& spec, std::span<const std::string_view> args,
                        std::vector<std::size_t>& out) const {
  const auto argc = static_cast<std::int64_t>(args.size());
  std::int64_t first = 0;
  if (spec.begin == KeySpec::Begin::index) {
    first = spec.index;
  } else if (spec.begin == KeySpec::Begin::keyword) {
    // Forward from startfrom to the last argument, or backward from argc + startfrom to the
    // second, neither end included (as Redis searches).
    const std::int64_t from = spec.index > 0 ? spec.index : argc + spec.index;
    const std::int64_t to = spec.index > 0 ? argc - 1 : 1;
    for (std::int64_t i = from; i != to; i += from <= to ? 1 : -1) {
      if (i >= argc || i < 1) break;
      if (equal_ignoring_case(args[static_cast<std::size_t>(i)], spec.keyword)) {
        first = i + 1;
        break;
      }
    }
    if (first == 0) return true;  // no keyword, no keys
  } else {
    return false;
  }

  std::int64_t last = 0;
  if (spec.find == KeySpec::Find::range) {
    if (spec.lastkey >= 0) {
      last = first + spec.lastkey;
    } else if (spec.limit == 0) {
      last = argc + spec.lastkey;
    } else {
      last = first + (std::max<std::int64_t>(argc - first, 0) / spec.limit) + spec.lastkey;
    }
  } else if (spec.find == KeySpec::Find::keynum) {
    const std::int64_t at = first + spec.keynumidx;
    if (at >= argc) return false;
    const std::string_view text = args[static_cast<std::size_t>(at)];
    std::int64_t count = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), count);
    if (ec != std::errc() || end != text.data() + text.size() || count < 0) return false;
    if (count > argc) return false;
    // keystep apart (Redis 7.0 reads keystep as a step within numkeys positions, which differs
    // only for a keystep above 1, which no command of its has).
    first += spec.firstkey;
    last = first + (count - 1) * spec.keystep;
    if (count > 0 && last >= argc) return false;
  } else {
    return false;
  }
  for (std::int64_t i = first; i <= last && i < argc; i += spec.keystep) {
    out.push_back(static_cast<std::size_t>(i));
  }
  return !spec.incomplete;
}

void CommandInfo::legacy_keys(std::span<const std::string_view> args,
                              std::vector<std::size_t>& out) const {
  if (first_ <= 0) return;
  const auto argc = static_cast<std::int64_t>(args.size());
  const std::int64_t last = last_ < 0 ? argc + last_ : last_;
  for (std::int64_t i = first_; i <= last && i < argc; i += step_) {
    out.push_back(static_cast<std::size_t>(i));
  }
}

// sortGetKeys(), sortROGetKeys() and migrateGetKeys() of Redis 7.0 (db.c).
void CommandInfo::rule_keys(std::span<const std::string_view> args,
                            std::vector<std::size_t>& out) const {
  const std::size_t argc = args.size();
  if (rule_ == KeyRule::migrate) {
    // MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...]
    std::size_t first = 3;
    std::size_t count = argc > 3 ? 1 : 0;
    for (std::size_t i = 6; i < argc; ++i) {
      if (equal_ignoring_case(args[i], "keys")) {
        if (args[3].empty()) {
          first = i + 1;
          count = argc - first;
        }
        break;
      }
      if (equal_ignoring_case(args[i], "auth")) {
        i += 1;
      } else if (equal_ignoring_case(args[i], "auth2")) {
        i += 2;
      }
    }
    for (std::size_t i = 0; i < count; ++i) out.push_back(first + i);
    return;
  }
  if (argc < 2) return;
  out.push_back(1);  // the key sorted
  if (rule_ != KeyRule::sort) return;
  // SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]:
  // the last STORE names the destination.
  std::size_t store = 0;
  for (std::size_t i = 2; i < argc; ++i) {
    if (equal_ignoring_case(args[i], "limit")) {
      i += 2;
    } else if (equal_ignoring_case(args[i], "get") || equal_ignoring_case(args[i], "by")) {
      i += 1;
    } else if (equal_ignoring_case(args[i], "store") && i + 1 < argc) {
      store = i + 1;
    }
  }
  if (store != 0) out.push_back(store);
}

}  // namespace asyncredis::detail
