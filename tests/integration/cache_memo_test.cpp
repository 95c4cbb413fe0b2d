// cached()'s memo of decoded values against a real redis-server: a hit whose stored text is
// unchanged is not decoded again, and the memo never answers with anything but what Redis
// holds now.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "asyncredis/asyncredis.hpp"
#include "asyncredis/cache/cached.hpp"
#include "support/async_test.hpp"
#include "support/redis_server.hpp"
#include "support/shared_server.hpp"
#include "support/wait.hpp"

namespace asyncredis {
namespace {

using namespace std::chrono_literals;
using test::run_async;
using test::use_awaitable;
namespace asio = boost::asio;

std::atomic<int> decodes = 0;

// Counts how often it is decoded from JSON.
struct Counted {
  std::int64_t id = 0;
  std::string name;
  friend void to_json(nlohmann::json& j, const Counted& c) { j = {{"id", c.id}, {"name", c.name}}; }
  friend void from_json(const nlohmann::json& j, Counted& c) {
    ++decodes;
    j.at("id").get_to(c.id);
    j.at("name").get_to(c.name);
  }
  friend bool operator==(const Counted&, const Counted&) = default;
};

// Copies cannot be made: never remembered, decoded on every hit.
struct MoveOnly {
  std::unique_ptr<int> value;
  friend void to_json(nlohmann::json& j, const MoveOnly& m) { j = *m.value; }
  friend void from_json(const nlohmann::json& j, MoveOnly& m) {
    ++decodes;
    m.value = std::make_unique<int>(j.get<int>());
  }
};

class DecodedMemoTest : public test::CacheTest {};

auto lookup(std::atomic<int>& calls) {
  return [&calls](std::int64_t id) -> asio::awaitable<Counted> {
    ++calls;
    co_return Counted{id, "user" + std::to_string(id)};
  };
}

TEST_F(DecodedMemoTest, AnUnchangedHitIsNotDecodedAgain) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto get = cached(cache, "memo", 1min, lookup(calls));
    const Counted one{1, "user1"};
    auto got1 = co_await get(1);
    EXPECT_EQ(got1, one);  // computed, stored
    auto got2 = co_await get(1);
    EXPECT_EQ(got2, one);  // a hit, decoded and remembered
    const int after_first_hit = decodes.load();
    for (int i = 0; i < 5; ++i) {
      auto again = co_await get(1);
      EXPECT_EQ(again, one);
    }
    EXPECT_EQ(decodes.load(), after_first_hit) << "hits of the same text reuse the decoded value";
    auto got3 = co_await get(2);
    EXPECT_EQ(got3, (Counted{2, "user2"}));
    EXPECT_EQ(calls.load(), 2);
    EXPECT_EQ(cache.stats().hits, 6u) << "a remembered hit is still a hit";
  });
}

TEST_F(DecodedMemoTest, AChangedValueIsDecodedAndRemembered) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto get = cached(cache, "memo", 1min, lookup(calls));
    auto computed = co_await get(1);
    auto remembered = co_await get(1);
    // Another writer (another process, say) replaces the stored value.
    co_await client.set(get.key_for(1), R"({"id":1,"name":"renamed"})", use_awaitable);
    const Counted renamed{1, "renamed"};
    int before = decodes.load();
    auto got4 = co_await get(1);
    EXPECT_EQ(got4, renamed);
    EXPECT_EQ(decodes.load(), before + 1);
    before = decodes.load();
    auto got5 = co_await get(1);
    EXPECT_EQ(got5, renamed);
    EXPECT_EQ(decodes.load(), before) << "the new text is remembered";
    EXPECT_EQ(calls.load(), 1);
  });
}

TEST_F(DecodedMemoTest, OnlyWhatRedisHoldsNowIsAnswered) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto get = cached(cache, "memo", 1min, lookup(calls));
    auto computed = co_await get(1);
    auto remembered = co_await get(1);
    // Deleted: a miss computes again, whatever the memo remembers.
    EXPECT_TRUE(co_await get.invalidate(1));
    [[maybe_unused]] auto r1 = co_await get(1);
    EXPECT_EQ(calls.load(), 2);
    // A stored value that no longer decodes is an error, not the remembered value.
    co_await client.set(get.key_for(1), R"({"id":"one"})", use_awaitable);
    errc code{};
    try {
      [[maybe_unused]] auto r2 = co_await get(1);
    } catch (const Error& e) {
      code = static_cast<errc>(e.code().value());
    }
    EXPECT_EQ(code, errc::decode_error);
  });
}

TEST_F(DecodedMemoTest, ANotFoundMarkerIsNeverAnsweredFromTheMemo) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    auto find = [](std::int64_t id) -> asio::awaitable<std::optional<Counted>> {
      co_return Counted{id, "x"};
    };
    auto get = cached(cache, "memo", 1min, find);
    [[maybe_unused]] auto r3 = co_await get(1);
    auto found = co_await get(1);
    EXPECT_TRUE(found.has_value());
    co_await client.set(get.key_for(1), std::string("\0N", 2), use_awaitable);
    auto got6 = co_await get(1);
    EXPECT_EQ(got6, std::nullopt);
  });
}

TEST_F(DecodedMemoTest, TurnedOffEveryHitIsDecoded) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto get = cached(cache, "memo", 1min, lookup(calls)).memo(0);
    [[maybe_unused]] auto r4 = co_await get(1);
    int before = decodes.load();
    for (int i = 0; i < 3; ++i) {
      [[maybe_unused]] auto again = co_await get(1);
    }
    EXPECT_EQ(decodes.load(), before + 3);
    // A copy with another option has a memo of its own, with the same bounds: off.
    auto copy = get.single_flight(false);
    before = decodes.load();
    for (int i = 0; i < 3; ++i) {
      [[maybe_unused]] auto again = co_await copy(1);
    }
    EXPECT_EQ(decodes.load(), before + 3);
  });
}

// Calls made with a callback complete after the memoizer (and its memo) is destroyed: a hit
// the memo knew, a miss that computes, and a hit decoded with no memo left to remember it.
// So does one whose awaitable is started only after the memoizer is gone.
TEST_F(DecodedMemoTest, CallsOutliveTheirMemoizer) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    std::optional<Counted> remembered, computed, decoded;
    std::optional<asio::awaitable<Counted>> later;
    auto expect_ok = [](std::optional<Counted>& out) {
      return [&out](std::exception_ptr e, Counted c) {
        EXPECT_FALSE(e);
        out = std::move(c);
      };
    };
    {
      auto get = cached(cache, "memo", 1min, lookup(calls));
      [[maybe_unused]] auto stored = co_await get(1);
      [[maybe_unused]] auto hit = co_await get(1);  // now in the memo
      co_await client.set(get.key_for(3), R"({"id":3,"name":"three"})", use_awaitable);
      get(1, expect_ok(remembered));
      get(2, expect_ok(computed));
      get(3, expect_ok(decoded));
      later.emplace(get(1));  // not started until awaited
    }  // no reply has been read yet: this coroutine has not given up its thread
    auto late = co_await std::move(*later);
    EXPECT_EQ(late, (Counted{1, "user1"}));
    CO_ASSERT_TRUE(co_await test::eventually([&] { return remembered && computed && decoded; }));
    EXPECT_EQ(*remembered, (Counted{1, "user1"}));
    EXPECT_EQ(*computed, (Counted{2, "user2"}));
    EXPECT_EQ(*decoded, (Counted{3, "three"}));
    EXPECT_EQ(calls.load(), 2);
  });
}

// A remembered call sends the GET the memo encoded for it: with the service's key prefix.
TEST_F(DecodedMemoTest, RememberedCallsReadTheKeyWithTheServicesPrefix) {
  CacheOptions options;
  options.key_prefix = "app:";
  with_cache(
      [](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
        std::atomic<int> calls = 0;
        auto get = cached(cache, "memo", 1min, lookup(calls));
        [[maybe_unused]] auto computed = co_await get(1);
        [[maybe_unused]] auto decoded = co_await get(1);
        auto remembered = co_await get(1);
        EXPECT_EQ(remembered, (Counted{1, "user1"}));
        EXPECT_EQ(calls.load(), 1);
        const std::string key = "app:" + get.key_for(1);
        EXPECT_EQ(co_await client.exists(key, use_awaitable), 1);
        co_await client.set(key, R"({"id":1,"name":"changed"})", use_awaitable);
        auto changed = co_await get(1);
        EXPECT_EQ(changed.name, "changed") << "the remembered call reads the prefixed key";
        EXPECT_EQ(calls.load(), 1);
      },
      options);
}

TEST_F(DecodedMemoTest, CustomKeysAreRememberedByKey) {
  with_cache([](RedisClient& client, CacheService& cache) -> asio::awaitable<void> {
    std::atomic<int> calls = 0;
    auto get = cached(cache, "memo", 1min, lookup(calls)).key_with([](std::int64_t id) {
      return std::to_string(id);
    });
    [[maybe_unused]] auto r5 = co_await get(7);
    [[maybe_unused]] auto r6 = co_await get(7);
    const int before = decodes.load();
    auto got7 = co_await get(7);
    EXPECT_EQ(got7, (Counted{7, "user7"}));
    EXPECT_EQ(decodes.load(), before);
    co_await client.set("memo:7", R"({"id":7,"name":"seven"})", use_awaitable);
    auto seven = co_await get(7);
    EXPECT_EQ(seven.name, "seven");
  });
}

TEST_F(DecodedMemoTest, ResultsThatCannotBeCopiedAreDecodedEachTime) {
  with_cache([](RedisClient&, CacheService& cache) -> asio::awaitable<void> {
    auto get = cached(cache, "memo", 1min, [](int x) -> asio::awaitable<MoveOnly> {
      co_return MoveOnly{std::make_unique<int>(x * 2)};
    });
    [[maybe_unused]] auto r7 = co_await get(4);
    const int before = decodes.load();
    MoveOnly first = co_await get(4);
    MoveOnly second = co_await get(4);
    EXPECT_EQ(*first.value, 8);
    EXPECT_EQ(*second.value, 8);
    EXPECT_EQ(decodes.load(), before + 2);
  });
}

}  // namespace
}  // namespace asyncredis
