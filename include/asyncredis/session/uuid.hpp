// Uuid: a 128-bit UUID as a value, written in the canonical form Python's str(UUID) uses.
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace asyncredis {

/// A 128-bit UUID as a value, written in the canonical form Python's str(UUID) uses;
/// ordered and hashable, so it can key maps.
class Uuid {
 public:
  /// The 16 bytes, in the order the canonical form writes them.
  using Bytes = std::array<std::uint8_t, 16>;

  /// The nil UUID 00000000-0000-0000-0000-000000000000.
  constexpr Uuid() noexcept = default;
  /// The UUID with these bytes, taken as they are (no version or variant check).
  constexpr explicit Uuid(const Bytes& bytes) noexcept : bytes_(bytes) {}

  /// Reads the canonical 8-4-4-4-12 form: 36 characters, hyphens at 8, 13, 18 and 23, hex digits
  /// elsewhere (either case: RFC 9562 says input is case-insensitive). Braces, "urn:uuid:", a
  /// form without hyphens and surrounding spaces are refused, so one UUID has one spelling in
  /// keys and indexes. Throws Error(errc::invalid_argument) quoting the text.
  static Uuid parse(std::string_view text);
  /// The same, std::nullopt instead of throwing.
  static std::optional<Uuid> try_parse(std::string_view text) noexcept;

  /// A random (version 4, variant 10) UUID from OpenSSL's CSPRNG. Throws Error with
  /// std::errc::io_error should RAND_bytes fail (no entropy source).
  static Uuid random();

  /// Canonical lowercase 8-4-4-4-12, as Python's str(uuid.UUID) writes it.
  std::string to_string() const;

  /// The 16 bytes.
  const Bytes& bytes() const noexcept { return bytes_; }
  /// True for the nil UUID (all zero).
  bool is_nil() const noexcept { return *this == Uuid(); }

  /// Equal when the bytes are.
  friend constexpr bool operator==(const Uuid&, const Uuid&) noexcept = default;
  /// Ordered by the bytes, so the order of the canonical text.
  friend constexpr auto operator<=>(const Uuid&, const Uuid&) noexcept = default;

 private:
  Bytes bytes_{};
};

}  // namespace asyncredis

/// Hashes a Uuid, for std::unordered_map and std::unordered_set.
template <>
struct std::hash<asyncredis::Uuid> {
  /// A hash of the 16 bytes; never throws.
  std::size_t operator()(const asyncredis::Uuid& uuid) const noexcept {
    // The bytes are uniformly distributed for random UUIDs; mixing two halves is enough.
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    for (std::size_t i = 0; i < 8; ++i) hi = (hi << 8) | uuid.bytes()[i];
    for (std::size_t i = 8; i < 16; ++i) lo = (lo << 8) | uuid.bytes()[i];
    return std::hash<std::uint64_t>{}(hi ^ (lo * 0x9e3779b97f4a7c15ULL));
  }
};
