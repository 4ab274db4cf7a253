#include "wire.hpp"

#include <gtest/gtest.h>

#include <string>

namespace moneta::sshcert::wire {
namespace {

using namespace std::string_literals;

// RFC 4251 §5's mpint examples.
TEST(WireTest, MpintsAreWrittenInRfc4251CanonicalForm) {
    const auto mpint = [](std::string magnitude) {
        Writer w;
        w.put_mpint(magnitude);
        return w.bytes();
    };
    EXPECT_EQ(mpint(""), "\0\0\0\0"s);
    EXPECT_EQ(mpint("\0\0"s), "\0\0\0\0"s);  // leading zeros stripped: zero is empty
    EXPECT_EQ(mpint("\x09\xa3\x78\xf9\xb2\xe3\x32\xa7"s), "\0\0\0\x08\x09\xa3\x78\xf9\xb2\xe3\x32\xa7"s);
    EXPECT_EQ(mpint("\x80"s), "\0\0\0\x02\0\x80"s);  // a sign byte for a set top bit
}

TEST(WireTest, ReaderRefusesNonCanonicalAndTruncatedFields) {
    EXPECT_EQ(Reader("\0\0\0\x02\0\x80"s).get_mpint(), std::optional<std::string_view>("\x80"));
    EXPECT_EQ(Reader("\0\0\0\x02\0\x01"s).get_mpint(), std::nullopt);  // superfluous zero
    EXPECT_EQ(Reader("\0\0\0\x01\x80"s).get_mpint(), std::nullopt);    // negative
    EXPECT_EQ(Reader("\0\0\0\x01\0"s).get_mpint(), std::nullopt);      // zero written as 00
    EXPECT_EQ(Reader("\0\0\0\x05" "abcd"s).get_string(), std::nullopt);  // one byte short
    EXPECT_EQ(Reader("\0\0\0\x03" "a\0b"s).get_cstring(), std::nullopt);  // NUL inside a name
    EXPECT_EQ(Reader("\0\0\0\0\0\0\0"s).get_u64(), std::nullopt);
    const std::string bytes = "\x01\x02\x03\x04\x05\x06\x07\x08\x09"s;
    Reader r(bytes);
    EXPECT_EQ(r.get_u64(), 0x0102030405060708ULL);
    EXPECT_EQ(r.get_u8(), 9);
    EXPECT_TRUE(r.empty());
}

TEST(WireTest, NameListsAreCommaJoinedStrings) {
    Writer w;
    w.put_name_list({"a", "bc"});
    w.put_u32(7);
    EXPECT_EQ(w.bytes(), "\0\0\0\x04" "a,bc" "\0\0\0\x07"s);
}

}  // namespace
}  // namespace moneta::sshcert::wire
