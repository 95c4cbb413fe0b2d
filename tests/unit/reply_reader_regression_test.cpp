// ReplyReader regressions found by fuzz/reply_reader_fuzz.cpp; each input is also a seed in
// fuzz/corpus/reply_reader/.
#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include <string>

#include "asyncredis/reply.hpp"
#include "protocol/reply_reader.hpp"

namespace asyncredis::detail {
namespace {

using Status = ReplyReader::Status;

std::string nested(int arrays, const std::string& leaf) {
  std::string bytes;
  for (int i = 0; i < arrays; ++i) bytes += "*1\r\n";
  return bytes + leaf;
}

// The status next() ends with for `bytes`, and the error message if it is an error.
Status read(const std::string& bytes, ReaderLimits limits, std::string& error) {
  ReplyReader reader(limits);
  reader.feed(bytes.data(), bytes.size());
  Reply reply;
  const Status status = reader.next(reply);
  error = reader.error_message();
  return status;
}

// An empty ("*0") or nil ("*-1") array is an array level like any other: inside as many arrays
// as the limit allows it is one too deep. Before, the scanner let it through; with hiredis 0.14
// and the default limit, hiredis then refused it itself ("reply parser: No support for nested
// multi bulk replies with depth > 7"), and below the limit a reply one level too deep came back.
TEST(ReplyReaderRegression, EmptyAndNilArraysCountTowardsTheDepthLimit) {
  std::string error;
  for (const std::string leaf : {"*0\r\n", "*-1\r\n"}) {
    SCOPED_TRACE(leaf);
    const ReaderLimits three{.max_depth = 3};
    EXPECT_EQ(read(nested(2, leaf), three, error), Status::reply) << error;
    EXPECT_EQ(read(nested(3, leaf), three, error), Status::error);
    EXPECT_NE(error.find("nested deeper than 3"), std::string::npos) << error;

#if HIREDIS_MAJOR < 1
    // The default limit is 64, of which hiredis 0.14 parses 8.
    EXPECT_EQ(read(nested(7, leaf), {}, error), Status::reply) << error;
    EXPECT_EQ(read(nested(8, leaf), {}, error), Status::error);
    EXPECT_NE(error.find("nested deeper than 8"), std::string::npos) << error;
#endif
  }
  // A top-level empty or nil array is depth 1.
  const ReaderLimits one{.max_depth = 1};
  EXPECT_EQ(read("*0\r\n", one, error), Status::reply) << error;
  EXPECT_EQ(read("*-1\r\n", one, error), Status::reply) << error;
  EXPECT_EQ(read("*1\r\n*0\r\n", one, error), Status::error);
}

}  // namespace
}  // namespace asyncredis::detail
