// ClusterSuite: a test suite that shares one LocalCluster (6 nodes) among its tests, started
// before the first test and stopped after the last.
#pragma once

#include <gtest/gtest.h>

#include "support/local_cluster.hpp"

namespace asyncredis::test {

class ClusterSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new LocalCluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static inline LocalCluster* cluster_ = nullptr;
};

}  // namespace asyncredis::test
