// Conditions that run redis-cli, made cheap to poll: wait_until() and eventually() ask their
// condition every millisecond, and each redis-cli asking is a few processes, which on a loaded
// 2-core machine slows the very servers being waited for.
#pragma once

#include <chrono>

namespace asyncredis::test {

inline constexpr std::chrono::milliseconds kCliPoll{50};

// `check`, asked at most every `every`; in between, its last answer. For wait_until() or
// eventually(): throttled([&] { return node.cli({"ROLE"}) == ...; }).
template <class Check>
auto throttled(Check check, std::chrono::milliseconds every = kCliPoll) {
  return [check, every, asked = std::chrono::steady_clock::time_point{}, seen = false]() mutable {
    if (std::chrono::steady_clock::now() - asked >= every) {
      asked = std::chrono::steady_clock::now();
      seen = check();
    }
    return seen;
  };
}

}  // namespace asyncredis::test
