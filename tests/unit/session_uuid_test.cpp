// Uuid: the canonical text form both ways, what is refused and how it is reported, random().
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>

#include "asyncredis/error.hpp"
#include "asyncredis/session/uuid.hpp"

namespace asyncredis {
namespace {

// A UUID whose bytes Python printed: UUID("1b4e28ba-2fa1-11d2-883f-0016d3cca427").bytes.hex()
constexpr std::string_view kText = "1b4e28ba-2fa1-11d2-883f-0016d3cca427";
constexpr Uuid::Bytes kBytes = {0x1b, 0x4e, 0x28, 0xba, 0x2f, 0xa1, 0x11, 0xd2,
                                0x88, 0x3f, 0x00, 0x16, 0xd3, 0xcc, 0xa4, 0x27};

TEST(SessionUuid, ParsesCanonicalTextIntoItsBytes) {
  const Uuid uuid = Uuid::parse(kText);
  EXPECT_EQ(uuid.bytes(), kBytes);
  EXPECT_EQ(uuid.to_string(), kText);
  EXPECT_EQ(Uuid(kBytes).to_string(), kText);
}

TEST(SessionUuid, AcceptsUppercaseAndWritesLowercase) {
  const Uuid uuid = Uuid::parse("1B4E28BA-2FA1-11D2-883F-0016D3CCA427");
  EXPECT_EQ(uuid, Uuid::parse(kText));
  EXPECT_EQ(uuid.to_string(), kText);
  EXPECT_EQ(Uuid::parse("1b4E28bA-2fa1-11D2-883f-0016d3CCa427").to_string(), kText);
}

TEST(SessionUuid, NilAndExtremes) {
  EXPECT_TRUE(Uuid().is_nil());
  EXPECT_EQ(Uuid().to_string(), "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(Uuid::parse("00000000-0000-0000-0000-000000000000"), Uuid());
  const Uuid max = Uuid::parse("ffffffff-ffff-ffff-ffff-ffffffffffff");
  EXPECT_FALSE(max.is_nil());
  for (auto byte : max.bytes()) EXPECT_EQ(byte, 0xff);
  EXPECT_LT(Uuid(), max);
}

TEST(SessionUuid, RefusesEveryOtherSpelling) {
  const char* bad[] = {
      "",
      "1b4e28ba-2fa1-11d2-883f-0016d3cca42",     // 35 characters
      "1b4e28ba-2fa1-11d2-883f-0016d3cca4277",   // 37
      "{1b4e28ba-2fa1-11d2-883f-0016d3cca427}",  // braces (Python accepts them)
      "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
      "1b4e28ba2fa111d2883f0016d3cca427",       // no hyphens (Python accepts it)
      "1b4e28ba2-fa1-11d2-883f-0016d3cca427",   // hyphen moved
      "1b4e28ba-2fa1-11d2-883f_0016d3cca427",   // '_' for '-'
      "1b4e28ba-2fa1-11d2-883f-0016d3cca42g",   // not hex
      " 1b4e28ba-2fa1-11d2-883f-0016d3cca427",  // surrounding space
      "1b4e28ba-2fa1-11d2-883f-0016d3cca427 ",
      "1b4e28ba-2fa1-11d2-883f-0016d3cca4\xc3\xa9",  // non-ASCII
      "+b4e28ba-2fa1-11d2-883f-0016d3cca427",
  };
  for (const char* text : bad) {
    EXPECT_EQ(Uuid::try_parse(text), std::nullopt) << text;
    try {
      Uuid::parse(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << text;
      EXPECT_NE(e.message().find("invalid UUID"), std::string::npos) << e.message();
      EXPECT_NE(e.message().find("8-4-4-4-12"), std::string::npos) << e.message();
    }
  }
}

TEST(SessionUuid, ErrorQuotesTheTextWithControlCharactersEscaped) {
  try {
    Uuid::parse("bad\x1b[31mred\nline");
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("\"bad\\x1b[31mred\\x0aline\""), std::string::npos) << e.message();
    EXPECT_EQ(e.message().find('\x1b'), std::string::npos);
    EXPECT_EQ(e.message().find('\n'), std::string::npos);
  }
  try {
    Uuid::parse(std::string(1000, 'a'));
    FAIL() << "accepted";
  } catch (const Error& e) {
    EXPECT_LT(e.message().size(), 250u) << "long input must be cut in the message";
    EXPECT_NE(e.message().find("..."), std::string::npos);
  }
}

TEST(SessionUuid, RandomIsVersion4Variant10AndUnique) {
  std::set<Uuid> seen;
  for (int i = 0; i < 1000; ++i) {
    const Uuid uuid = Uuid::random();
    EXPECT_EQ(uuid.bytes()[6] >> 4, 4);
    EXPECT_EQ(uuid.bytes()[8] >> 6, 2);
    const std::string text = uuid.to_string();
    EXPECT_EQ(text[14], '4');
    EXPECT_NE(std::string("89ab").find(text[19]), std::string::npos) << text;
    EXPECT_EQ(Uuid::parse(text), uuid);
    EXPECT_TRUE(seen.insert(uuid).second);
  }
}

TEST(SessionUuid, HashesAndOrdersAsAValue) {
  std::unordered_set<Uuid> set;
  set.insert(Uuid::parse(kText));
  set.insert(Uuid::parse("1B4E28BA-2FA1-11D2-883F-0016D3CCA427"));
  set.insert(Uuid());
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.count(Uuid(kBytes)), 1u);
  // Ordered by bytes, which is the text's order too.
  EXPECT_LT(Uuid::parse("00000000-0000-0000-0000-000000000001"),
            Uuid::parse("00000000-0000-0000-0000-000000000100"));
  EXPECT_NE(std::hash<Uuid>{}(Uuid()), std::hash<Uuid>{}(Uuid(kBytes)));
}

}  // namespace
}  // namespace asyncredis
