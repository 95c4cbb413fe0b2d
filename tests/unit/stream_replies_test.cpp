// The conversions of stream replies (StreamEntry, StreamEntries, XPENDING, XAUTOCLAIM) and of
// flat pair arrays: what they accept and how they refuse a reply of another shape.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "asyncredis/asyncredis.hpp"

namespace asyncredis {
namespace {

Reply bulk(std::string text) {
  return Reply::bulk_string(std::move(text));
}

Reply entry(std::string id, std::vector<std::string> flat_fields) {
  std::vector<Reply> fields;
  for (auto& text : flat_fields) fields.push_back(bulk(std::move(text)));
  return Reply::array({bulk(std::move(id)), Reply::array(std::move(fields))});
}

errc error_of(const Reply& reply, auto convert) {
  try {
    convert(Reply(reply));
  } catch (const Error& e) {
    return static_cast<errc>(e.code().value());
  }
  return errc{};
}

TEST(StreamReplies, EntryKeepsItsFieldsInOrder) {
  const StreamEntry converted = entry("1-0", {"z", "1", "a", "2"}).as<StreamEntry>();
  EXPECT_EQ(converted, (StreamEntry{"1-0", {{"z", "1"}, {"a", "2"}}}));
  // An entry deleted while pending comes back with nil fields.
  const Reply deleted = Reply::array({bulk("2-0"), Reply::nil()});
  EXPECT_EQ(deleted.as<StreamEntry>(), (StreamEntry{"2-0", {}}));
}

TEST(StreamReplies, OtherShapesAreUnexpectedType) {
  auto as_entry = [](Reply&& reply) { return std::move(reply).as<StreamEntry>(); };
  EXPECT_EQ(error_of(bulk("1-0"), as_entry), errc::unexpected_type);
  EXPECT_EQ(error_of(Reply::array({bulk("1-0")}), as_entry), errc::unexpected_type);
  EXPECT_EQ(error_of(entry("1-0", {"odd"}), as_entry), errc::unexpected_type);
  EXPECT_EQ(error_of(Reply::error("WRONGTYPE x"), as_entry), errc::server_error);
  auto as_summary = [](Reply&& reply) { return std::move(reply).as<XPendingSummary>(); };
  EXPECT_EQ(error_of(Reply::array({Reply::integer(0)}), as_summary), errc::unexpected_type);
}

TEST(StreamReplies, XreadBatchesAndNilAsEmpty) {
  const Reply read =
      Reply::array({Reply::array({bulk("s"), Reply::array({entry("1-0", {"f", "v"})})})});
  EXPECT_EQ(detail::stream_entries_of(Reply(read)),
            (std::vector<StreamEntries>{{"s", {{"1-0", {{"f", "v"}}}}}}));
  EXPECT_TRUE(detail::stream_entries_of(Reply::nil()).empty());
}

TEST(StreamReplies, PendingSummaryOfAnEmptyGroup) {
  const Reply empty = Reply::array({Reply::integer(0), Reply::nil(), Reply::nil(), Reply::nil()});
  const auto summary = empty.as<XPendingSummary>();
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.lowest_id, std::nullopt);
  EXPECT_TRUE(summary.consumers.empty());
}

TEST(StreamReplies, AutoclaimHasNextIdEntriesAndDeletedIds) {
  const Reply reply = Reply::array(
      {bulk("0-0"), Reply::array({entry("3-0", {"f", "v"})}), Reply::array({bulk("1-0")})});
  const auto claimed = reply.as<XAutoClaimResult>();
  EXPECT_EQ(claimed.next_id, "0-0");
  EXPECT_EQ(claimed.entries, (std::vector<StreamEntry>{{"3-0", {{"f", "v"}}}}));
  EXPECT_EQ(claimed.deleted_ids, (std::vector<std::string>{"1-0"}));
}

TEST(FlatPairs, KeepOrderAndRefuseAnOddCount) {
  const Reply scored = Reply::array({bulk("b"), bulk("2"), bulk("a"), bulk("1.5")});
  using Scored = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ((detail::FlatPairs<std::string, double>{}(Reply(scored))),
            (Scored{{"b", 2}, {"a", 1.5}}));
  auto as_pairs = [](Reply&& reply) {
    return detail::pairs_from_flat_array<std::string, double>(std::move(reply));
  };
  EXPECT_EQ(error_of(Reply::array({bulk("a")}), as_pairs), errc::unexpected_type);
  EXPECT_EQ(error_of(bulk("a"), as_pairs), errc::unexpected_type);
  EXPECT_EQ((detail::NilAsEmpty<std::vector<std::string>>{}(Reply::nil())),
            std::vector<std::string>{});
}

}  // namespace
}  // namespace asyncredis
