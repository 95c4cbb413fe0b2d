// cached()'s memo of decoded values, without a server: what a call finds, what it may answer
// without decoding, and the bounds on what the memo keeps.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "asyncredis/cache/decoded_memo.hpp"

namespace asyncredis::detail {
namespace {

std::shared_ptr<const DecodedMemo::Entry> entry(std::string id, std::string json, int value) {
  auto e = std::make_shared<DecodedMemo::Entry>();
  e->id = std::move(id);
  e->key = "k:" + e->id;
  e->json = std::move(json);
  e->type = memo_type<int>();
  e->value = std::make_shared<const int>(value);
  return e;
}

CacheEntry hit(std::string json) {
  CacheEntry e;
  e.kind = CacheEntry::Kind::value;
  e.json = std::move(json);
  return e;
}

TEST(DecodedMemo, FindsWhatWasRememberedAndReplacesIt) {
  DecodedMemo memo(8, 1 << 20);
  EXPECT_EQ(memo.find("a"), nullptr);
  memo.remember(entry("a", "1", 1));
  ASSERT_NE(memo.find("a"), nullptr);
  EXPECT_EQ(memo.find("a")->key, "k:a");
  memo.remember(entry("a", "2", 2));
  EXPECT_EQ(memo.size(), 1u);
  EXPECT_EQ(memo.find("a")->json, "2");
}

TEST(DecodedMemo, KeepsAtMostMaxEntriesOldestOut) {
  DecodedMemo memo(2, 1 << 20);
  memo.remember(entry("a", "1", 1));
  memo.remember(entry("b", "2", 2));
  memo.remember(entry("c", "3", 3));
  EXPECT_EQ(memo.size(), 2u);
  EXPECT_EQ(memo.find("a"), nullptr);
  EXPECT_NE(memo.find("b"), nullptr);
  EXPECT_NE(memo.find("c"), nullptr);
}

TEST(DecodedMemo, KeepsAtMostMaxBytesAndNeverALargeText) {
  DecodedMemo memo(1000, 16 * 1024);
  EXPECT_TRUE(memo.accepts(1024));
  EXPECT_FALSE(memo.accepts(1025)) << "a text over max_bytes / 16 is not kept";
  memo.remember(entry("big", std::string(2000, '1'), 1));
  EXPECT_EQ(memo.find("big"), nullptr);
  for (int i = 0; i < 100; ++i)
    memo.remember(entry("id" + std::to_string(i), std::string(1000, '1'), i));
  EXPECT_LT(memo.size(), 10u) << "each entry costs about twice its 1,000-byte text";
  EXPECT_GT(memo.size(), 0u);
  EXPECT_NE(memo.find("id99"), nullptr) << "the newest stays";
}

TEST(DecodedMemo, ZeroEntriesIsOff) {
  DecodedMemo memo(0, 1 << 20);
  EXPECT_FALSE(memo.enabled());
  EXPECT_FALSE(memo.accepts(1));
  memo.remember(entry("a", "1", 1));
  EXPECT_EQ(memo.find("a"), nullptr);
}

TEST(MemoHandle, RecallsOnlyTheSameTextOfTheSameType) {
  DecodedMemo memo(8, 1 << 20);
  memo.remember(entry("a", "41", 41));
  auto handle = MemoHandle<int>::found(memo.find("a"));
  EXPECT_TRUE(handle.was_found());
  EXPECT_EQ(handle.key(), "k:a");
  EXPECT_EQ(handle.recall(hit("41")), 41);
  EXPECT_EQ(handle.recall(hit("42")), std::nullopt) << "the stored text changed";
  CacheEntry not_found;
  not_found.kind = CacheEntry::Kind::not_found;
  EXPECT_EQ(handle.recall(not_found), std::nullopt);
  EXPECT_EQ(MemoHandle<long>::found(memo.find("a")).recall(hit("41")), std::nullopt)
      << "another type";
}

TEST(MemoHandle, RemembersWhatItDecoded) {
  DecodedMemo memo(8, 1 << 20);
  auto fresh = MemoHandle<int>::fresh("id", "key");
  EXPECT_FALSE(fresh.was_found());
  EXPECT_EQ(fresh.key(), "key");
  EXPECT_EQ(fresh.recall(hit("7")), std::nullopt) << "nothing was remembered yet";
  fresh.remember(memo, hit("7"), 7);
  auto found = memo.find("id");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->key, "key");
  auto second = MemoHandle<int>::found(found);
  EXPECT_EQ(second.recall(hit("7")), 7);
  second.remember(memo, hit("8"), 8);  // the value changed: the memo follows
  EXPECT_EQ(MemoHandle<int>::found(memo.find("id")).recall(hit("8")), 8);
  EXPECT_EQ(memo.size(), 1u);
}

TEST(MemoHandle, RemembersNothingWhenTheMemoIsOffOrTheTextTooLong) {
  DecodedMemo off(0, 1 << 20);
  MemoHandle<int>::fresh("id", "key").remember(off, hit("7"), 7);
  EXPECT_EQ(off.size(), 0u);
  DecodedMemo small(8, 160);
  MemoHandle<int>::fresh("id", "key").remember(small, hit(std::string(11, '1')), 1);
  EXPECT_EQ(small.size(), 0u);
}

}  // namespace
}  // namespace asyncredis::detail
