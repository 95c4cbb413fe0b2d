// What the URL settings tests share: checking that url() writes back what from_url() read.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "asyncredis/settings.hpp"

namespace asyncredis::test {

// from_url(read).url() is `written`; reading `written` gives the same settings back, and
// writing those gives the same text again.
inline void expect_url_round_trip(const std::string& read, const std::string& written) {
  SCOPED_TRACE(read);
  const RedisSettings first = RedisSettings::from_url(read);
  EXPECT_EQ(first.url(), written);
  RedisSettings again;
  ASSERT_NO_THROW(again = RedisSettings::from_url(written));
  EXPECT_EQ(again, first);
  EXPECT_EQ(again.url(), written);
}

}  // namespace asyncredis::test
