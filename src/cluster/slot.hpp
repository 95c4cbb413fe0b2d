// Which of Redis Cluster's 16384 hash slots a key belongs to: CRC16 (XMODEM) of the key, or
// of its hash tag (the text between the first '{' and the next '}', when not empty), mod 16384.
#pragma once

#include <cstdint>
#include <string_view>

namespace asyncredis::detail {

inline constexpr std::uint16_t kClusterSlots = 16384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as the cluster specification
// gives it: crc16("123456789") is 0x31C3.
std::uint16_t crc16(std::string_view bytes) noexcept;

// The part of `key` that is hashed: its hash tag if it has one, else the whole key.
std::string_view hash_tag(std::string_view key) noexcept;

// The slot of `key`, 0-16383.
std::uint16_t slot_of(std::string_view key) noexcept;

}  // namespace asyncredis::detail
