// cached()'s memo of decoded values, without a server: what a call finds, what it may answer
// without decoding, and the bounds on what the memo keeps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "asyncredis/cache/decoded_memo.hpp"
#include "asyncredis/cache/key_builder.hpp"
#include "asyncredis/cache/memo_table.hpp"

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
  EXPECT_EQ(handle.key(), "k:a");
  EXPECT_EQ(handle.recall("41"), 41);
  EXPECT_EQ(handle.recall("42"), std::nullopt) << "the stored text changed";
  EXPECT_EQ(handle.recall("41 "), std::nullopt) << "byte for byte";
  EXPECT_EQ(MemoHandle<long>::found(memo.find("a")).recall("41"), std::nullopt) << "another type";
}

TEST(MemoHandle, RemembersWhatItDecoded) {
  DecodedMemo memo(8, 1 << 20);
  auto owner = std::make_shared<const int>(0);
  auto fresh = MemoHandle<int>::fresh("id", "key", "*2\r\n...", owner);
  EXPECT_EQ(fresh.key(), "key");
  EXPECT_EQ(fresh.encoded_get(), "*2\r\n...");
  EXPECT_EQ(fresh.owner(), owner);
  EXPECT_EQ(fresh.recall("7"), std::nullopt) << "nothing was remembered yet";
  fresh.remember(memo, hit("7"), 7);
  auto found = memo.find("id");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->key, "key");
  EXPECT_EQ(found->owner, owner) << "the remembered entry keeps the owner alive too";
  EXPECT_EQ(found->encoded_get, "*2\r\n...") << "and the encoded GET";
  auto second = MemoHandle<int>::found(found);
  EXPECT_EQ(second.recall("7"), 7);
  second.remember(memo, hit("8"), 8);  // the value changed: the memo follows
  EXPECT_EQ(MemoHandle<int>::found(memo.find("id")).recall("8"), 8);
  EXPECT_EQ(memo.size(), 1u);
  CacheEntry not_found;
  not_found.kind = CacheEntry::Kind::not_found;
  second.remember(memo, not_found, 9);
  EXPECT_EQ(MemoHandle<int>::found(memo.find("id")).recall("8"), 8)
      << "a \"not found\" is never remembered";
}

TEST(MemoHandle, RemembersNothingWhenTheMemoIsOffOrTheTextTooLong) {
  DecodedMemo off(0, 1 << 20);
  MemoHandle<int>::fresh("id", "key", "", nullptr).remember(off, hit("7"), 7);
  EXPECT_EQ(off.size(), 0u);
  DecodedMemo small(8, 160);
  MemoHandle<int>::fresh("id", "key", "", nullptr).remember(small, hit(std::string(11, '1')), 1);
  EXPECT_EQ(small.size(), 0u);
}

// Random puts, takes and finds over a few ids, against a std::map: the probing and the
// backward-shift deletion of the open-addressing table keep every entry reachable.
TEST(MemoTable, AgreesWithAMapOverRandomOperations) {
  MemoTable<MemoEntry> table;
  std::map<std::string, std::shared_ptr<const MemoEntry>> reference;
  std::mt19937 random(7);
  for (int step = 0; step < 50000; ++step) {
    const std::string id = "id" + std::to_string(random() % 48);
    switch (random() % 3) {
      case 0: {
        auto e = entry(id, std::to_string(step), step);
        const auto replaced = table.put(e);
        const auto it = reference.find(id);
        EXPECT_EQ(replaced, it == reference.end() ? nullptr : it->second);
        reference[id] = e;
        break;
      }
      case 1: {
        const auto taken = table.take(id);
        const auto it = reference.find(id);
        EXPECT_EQ(taken, it == reference.end() ? nullptr : it->second);
        if (it != reference.end()) reference.erase(it);
        break;
      }
      default: {
        const auto* found = table.find(id);
        const auto it = reference.find(id);
        EXPECT_EQ(found ? *found : nullptr, it == reference.end() ? nullptr : it->second);
      }
    }
    ASSERT_EQ(table.size(), reference.size()) << "step " << step;
  }
  for (const auto& [id, e] : reference) {
    const auto* found = table.find(id);
    ASSERT_NE(found, nullptr) << id;
    EXPECT_EQ(*found, e);
  }
}

// Ids whose home is the table's last slot wrap around to its start; taking one from the
// middle of such a run shifts the rest back and keeps them all reachable.
TEST(MemoTable, TakesFromARunThatWrapsAround) {
  MemoTable<MemoEntry> table;  // 16 slots while it holds at most 12
  std::vector<std::string> last_home, first_home;
  for (int i = 0; last_home.size() < 3 || first_home.size() < 2; ++i) {
    std::string id = "w" + std::to_string(i);
    const auto home = memo_hash(id) % 16;
    if (home == 15 && last_home.size() < 3) last_home.push_back(id);
    if (home == 0 && first_home.size() < 2) first_home.push_back(id);
  }
  // Slots 15, 0, 1 for last_home; 2, 3 for first_home (displaced by the wrapped run).
  for (const auto& id : last_home) table.put(entry(id, "1", 1));
  for (const auto& id : first_home) table.put(entry(id, "2", 2));
  ASSERT_EQ(table.size(), 5u);
  ASSERT_NE(table.take(last_home[0]), nullptr);
  EXPECT_EQ(table.take(last_home[0]), nullptr);
  for (const auto& id : {last_home[1], last_home[2], first_home[0], first_home[1]}) {
    ASSERT_NE(table.find(id), nullptr) << id;
  }
  ASSERT_NE(table.take(last_home[2]), nullptr);  // inside the wrapped part
  for (const auto& id : {last_home[1], first_home[0], first_home[1]}) {
    ASSERT_NE(table.find(id), nullptr) << id;
  }
  EXPECT_EQ(table.size(), 3u);
}

// Ids differing only in the last byte of a big-endian integer (consecutive arguments) spread
// over the low bits the table indexes by.
TEST(MemoTable, ConsecutiveArgumentsSpreadOverTheTable) {
  constexpr std::size_t buckets = 2048;
  std::vector<int> load(buckets);
  for (std::int64_t i = 0; i < 1024; ++i) {
    ++load[memo_hash(KeyBuilder::encode(i)) % buckets];
  }
  EXPECT_LE(*std::max_element(load.begin(), load.end()), 6);
  EXPECT_NE(memo_hash("a"), memo_hash("b"));
  EXPECT_NE(memo_hash(std::string(9, 'a')), memo_hash(std::string(10, 'a')));
}

}  // namespace
}  // namespace asyncredis::detail
