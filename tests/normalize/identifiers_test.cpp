#include "normalize/identifiers.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace cdphub::normalize {
namespace {

class Cleanse : public ::testing::Test {
  protected:
    Identifier ok(std::string_view type, std::string_view value) const {
        auto r = us_.cleanse(type, value);
        if (auto* e = std::get_if<std::string>(&r)) {
            ADD_FAILURE() << type << " " << value << ": " << *e;
            return {};
        }
        return std::get<Identifier>(r);
    }
    std::string err(std::string_view type, std::string_view value,
                    const IdentifierCleanser* c = nullptr) const {
        auto r = (c ? *c : us_).cleanse(type, value);
        if (auto* e = std::get_if<std::string>(&r)) return *e;
        ADD_FAILURE() << type << " " << value << " accepted as " << std::get<Identifier>(r).value;
        return {};
    }
    IdentifierCleanser us_{CleanserOptions{"US", true}};
};

const std::string kHash = "2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE";
const std::string kHashLower = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

TEST_F(Cleanse, EmailTrimmedAndLowerCased) {
    auto id = ok("email", "  Ann.Lee+news@Example.COM \t");
    EXPECT_EQ(id.type, "email");
    EXPECT_EQ(id.value, "ann.lee+news@example.com");
    EXPECT_FALSE(id.hashed);
    EXPECT_EQ(id.original, "  Ann.Lee+news@Example.COM \t");
}

TEST_F(Cleanse, EmailKeepsNonAsciiBytes) {
    EXPECT_EQ(ok("email", "JÖRG@Exämple.de").value, "jÖrg@exämple.de");
}

TEST_F(Cleanse, InvalidEmails) {
    for (const char* e :
         {"", "   ", "ann", "ann@", "@example.com", "ann@example", "ann@@example.com",
          "a@b@example.com", "ann lee@example.com", "ann@.example.com", "ann@example.com.",
          "ann@exa..mple.com", "ann@example.com,bob@x.com", "<ann@example.com>"})
        EXPECT_FALSE(err("email", e).empty()) << e;
    EXPECT_FALSE(err("email", std::string(65, 'a') + "@example.com").empty());
    EXPECT_FALSE(err("email", "a@" + std::string(250, 'b') + ".com").empty());
}

TEST_F(Cleanse, HashedEmailSentAsEmailMovesToEmailSha256) {
    auto id = ok("email", " " + kHash + " ");
    EXPECT_EQ(id.type, "email_sha256");
    EXPECT_EQ(id.value, kHashLower);
    EXPECT_TRUE(id.hashed);
}

TEST_F(Cleanse, HashedTypes) {
    for (const char* t : {"email_sha256", "phone_sha256"}) {
        auto id = ok(t, kHash);
        EXPECT_EQ(id.type, t);
        EXPECT_EQ(id.value, kHashLower);
        EXPECT_TRUE(id.hashed);
        EXPECT_NE(err(t, "ann@example.com").find("SHA-256"), std::string::npos);
        EXPECT_FALSE(err(t, kHashLower.substr(1)).empty());        // 63 digits
        EXPECT_FALSE(err(t, kHashLower.substr(1) + "g").empty());  // not hex
    }
    EXPECT_EQ(ok("phone", kHash).type, "phone_sha256");
}

TEST_F(Cleanse, PhoneInternationalToE164) {
    EXPECT_EQ(ok("phone", "+49 30 1234567").value, "+49301234567");
    EXPECT_EQ(ok("phone", "+1 (650) 253-0000").value, "+16502530000");
    EXPECT_EQ(ok("phone", "+44 20 7946 0958").value, "+442079460958");
    EXPECT_EQ(ok("phone", "+81 3-1234-5678").value, "+81312345678");
    EXPECT_EQ(ok("phone", " +49 30 1234567 ").original, " +49 30 1234567 ");
}

TEST_F(Cleanse, PhoneNationalUsesDefaultRegion) {
    EXPECT_EQ(ok("phone", "(650) 253-0000").value, "+16502530000");
    IdentifierCleanser de(CleanserOptions{"DE", true});
    auto r = de.cleanse("phone", "030 1234567");
    ASSERT_TRUE(std::holds_alternative<Identifier>(r));
    EXPECT_EQ(std::get<Identifier>(r).value, "+49301234567");
    // The international prefix of the region works too.
    r = de.cleanse("phone", "0049 30 1234567");
    ASSERT_TRUE(std::holds_alternative<Identifier>(r));
    EXPECT_EQ(std::get<Identifier>(r).value, "+49301234567");
    // An explicit '+' wins over the default region.
    r = de.cleanse("phone", "+1 650 253 0000");
    ASSERT_TRUE(std::holds_alternative<Identifier>(r));
    EXPECT_EQ(std::get<Identifier>(r).value, "+16502530000");
}

TEST_F(Cleanse, InvalidPhones) {
    for (const char* p :
         {"12", "abc", "+1 555 0100", "+49 1", "000000", "+999 123456789", "not a phone at all"})
        EXPECT_FALSE(err("phone", p).empty()) << p;
    EXPECT_NE(err("phone", "12").find("region US"), std::string::npos);
    EXPECT_FALSE(err("phone", std::string(80, '1')).empty());
}

TEST_F(Cleanse, LenientPhoneValidationAcceptsPossibleNumbers) {
    IdentifierCleanser lenient(CleanserOptions{"US", false});
    auto r = lenient.cleanse("phone", "+1 555 0100");
    ASSERT_TRUE(std::holds_alternative<Identifier>(r));
    EXPECT_EQ(std::get<Identifier>(r).value, "+15550100");
}

TEST_F(Cleanse, UnknownRegionRefusedAtConstruction) {
    EXPECT_THROW(IdentifierCleanser(CleanserOptions{"XX", true}), std::invalid_argument);
    EXPECT_THROW(IdentifierCleanser(CleanserOptions{"", true}), std::invalid_argument);
}

TEST_F(Cleanse, OpaqueIdsTrimmedCaseKept) {
    auto id = ok("user_id", "  AbC-42 ");
    EXPECT_EQ(id.value, "AbC-42");
    EXPECT_EQ(ok("loyalty_card", "X1").value, "X1");
    EXPECT_FALSE(err("user_id", " \t ").empty());
    EXPECT_FALSE(err("crm_id",
                     "a\x01"
                     "b")
                     .empty());
    EXPECT_FALSE(err("crm_id", std::string(600, 'x')).empty());
}

TEST(IdentifierTypes, Validity) {
    EXPECT_TRUE(is_known_identifier_type("email"));
    EXPECT_TRUE(is_known_identifier_type("pos_customer_id"));
    EXPECT_FALSE(is_known_identifier_type("loyalty_card"));
    EXPECT_TRUE(is_valid_identifier_type("loyalty_card"));
    EXPECT_TRUE(is_valid_identifier_type("a"));
    EXPECT_TRUE(is_valid_identifier_type(std::string(64, 'a')));
    for (const std::string& t :
         std::vector<std::string>{"", "Email", "1abc", "_x", "a-b", "a b", std::string(65, 'a')})
        EXPECT_FALSE(is_valid_identifier_type(t)) << t;
}

}  // namespace
}  // namespace cdphub::normalize
