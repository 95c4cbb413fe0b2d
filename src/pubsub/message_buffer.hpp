// MessageBuffer: the messages a subscriber received and receive() has not taken yet, within
// bounds (SubscriberOptions): when a slow consumer lets it fill, it drops the oldest (and says
// how many in the next message taken) or reports the overflow, as the options say.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>

#include "asyncredis/subscriber.hpp"

namespace asyncredis::detail {

class MessageBuffer {
 public:
  explicit MessageBuffer(const SubscriberOptions& options) : options_(options) {}

  // Adds `message` at the end. With drop_oldest, older messages make room; returns false (and
  // keeps nothing) when it does not fit and the policy is disconnect.
  bool push(Message&& message);
  // The oldest message, carrying the count of those dropped since the previous one taken.
  std::optional<Message> pop();

  bool empty() const noexcept { return messages_.empty(); }
  std::size_t size() const noexcept { return messages_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }
  std::uint64_t dropped_total() const noexcept { return dropped_total_; }
  void clear() noexcept;

  // What a message counts against max_bytes.
  static std::size_t bytes_of(const Message& message) noexcept {
    return message.channel.size() + message.pattern.size() + message.payload.size();
  }

 private:
  SubscriberOptions options_;
  std::deque<Message> messages_;
  std::size_t bytes_ = 0;
  std::size_t dropped_ = 0;  // since the last pop()
  std::uint64_t dropped_total_ = 0;
};

}  // namespace asyncredis::detail
