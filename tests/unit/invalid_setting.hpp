// What the settings tests share: running code that must refuse a setting.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "asyncredis/error.hpp"

namespace asyncredis::test {

// Runs `action`, which must throw Error(errc::invalid_setting); returns its message.
inline std::string invalid_setting_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_setting)) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "no asyncredis::Error thrown";
  return {};
}

}  // namespace asyncredis::test
