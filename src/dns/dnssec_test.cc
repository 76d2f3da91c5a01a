#include "dns/dnssec.h"

#include <gtest/gtest.h>

#include <memory>

// Last: ldns's headers define macros that clash with some C++ headers.
#include "dns/ldns_ptr.h"

namespace bulkhead::dns {
namespace {

// The tests sign a tiny two-zone tree (test. delegating securely to
// example.test.) with keys made by ldns, and answer questions from it in
// memory, so no server is needed.

constexpr std::time_t kNow = 1800000000;  // 2027-01-15.
constexpr std::time_t kDay = 86400;

struct KeyFree {
  void operator()(ldns_key* k) const { ldns_key_deep_free(k); }
};
struct RrFree {
  void operator()(ldns_rr* r) const { ldns_rr_free(r); }
};
using UniqueKey = std::unique_ptr<ldns_key, KeyFree>;
using UniqueRr = std::unique_ptr<ldns_rr, RrFree>;

UniqueRr Rr(const std::string& text) {
  ldns_rr* rr = nullptr;
  EXPECT_EQ(ldns_rr_new_frm_str(&rr, text.c_str(), 300, nullptr, nullptr), LDNS_STATUS_OK) << text;
  return UniqueRr(rr);
}

Record ToRecord(const ldns_rr* rr) {
  Record r;
  UniqueChars owner(ldns_rdf2str(ldns_rr_owner(rr)));
  r.owner = Canonical(owner.get());
  r.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
  r.ttl = ldns_rr_ttl(rr);
  UniqueBuffer buf(ldns_buffer_new(512));
  EXPECT_EQ(ldns_rr_rdata2buffer_wire(buf.get(), rr), LDNS_STATUS_OK);
  r.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())),
                 ldns_buffer_position(buf.get()));
  return r;
}

std::string Text(const ldns_rr* rr) {
  UniqueChars s(ldns_rr2str(rr));
  std::string out(s.get());
  while (!out.empty() && out.back() == '\n') {
    out.pop_back();
  }
  return out;
}

class Signer {
 public:
  Signer(const std::string& zone, std::time_t inception, std::time_t expiration) {
    key_.reset(ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256));
    EXPECT_TRUE(key_);
    ldns_key_set_pubkey_owner(key_.get(), ldns_dname_new_frm_str(zone.c_str()));
    ldns_key_set_flags(key_.get(), LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
    SetWindow(inception, expiration);
    dnskey_.reset(ldns_key2rr(key_.get()));
    ldns_rr_set_ttl(dnskey_.get(), 300);
    ldns_key_set_keytag(key_.get(), ldns_calc_keytag(dnskey_.get()));
  }

  void SetWindow(std::time_t inception, std::time_t expiration) {
    ldns_key_set_inception(key_.get(), static_cast<uint32_t>(inception));
    ldns_key_set_expiration(key_.get(), static_cast<uint32_t>(expiration));
  }

  const ldns_rr* dnskey() const { return dnskey_.get(); }
  std::string DnskeyText() const { return Text(dnskey_.get()); }
  std::string DsText() const {
    UniqueRr ds(ldns_key_rr2ds(dnskey_.get(), LDNS_SHA256));
    return Text(ds.get());
  }
  uint16_t tag() const { return ldns_calc_keytag(dnskey_.get()); }

  // Sign returns the records of `rrset` (one RRset) followed by its RRSIG.
  std::vector<Record> Sign(const std::vector<const ldns_rr*>& rrset) const {
    UniqueRrList list(ldns_rr_list_new());
    std::vector<Record> out;
    for (const ldns_rr* rr : rrset) {
      ldns_rr_list_push_rr(list.get(), ldns_rr_clone(rr));
      out.push_back(ToRecord(rr));
    }
    ldns_key_list* keys = ldns_key_list_new();
    ldns_key_list_push_key(keys, key_.get());
    UniqueRrList sigs(ldns_sign_public(list.get(), keys));
    // ldns_key_list_free frees the keys it holds; this one is key_'s.
    ldns_key_list_set_key_count(keys, 0);
    ldns_key_list_free(keys);
    EXPECT_TRUE(sigs);
    for (size_t i = 0; sigs && i < ldns_rr_list_rr_count(sigs.get()); ++i) {
      out.push_back(ToRecord(ldns_rr_list_rr(sigs.get(), i)));
    }
    return out;
  }

 private:
  UniqueKey key_;
  UniqueRr dnskey_;
};

uint16_t Covered(const Record& r) {
  return static_cast<uint16_t>((static_cast<unsigned char>(r.rdata[0]) << 8) |
                               static_cast<unsigned char>(r.rdata[1]));
}

// FakeDns answers from a list of records like an authoritative server of
// both zones: the RRset and its RRSIGs, or for an empty answer every NSEC
// record with its RRSIGs in the authority section.
class FakeDns {
 public:
  void Add(const std::vector<Record>& records) {
    records_.insert(records_.end(), records.begin(), records.end());
  }
  std::vector<Record>& records() { return records_; }

  DnssecLookup Lookup() {
    return [this](const std::string& name, uint16_t type) -> Result<Response> {
      ++queries_;
      Response r;
      bool name_exists = false;
      for (const Record& rec : records_) {
        if (rec.owner != name) {
          continue;
        }
        name_exists = true;
        if (rec.type == type || (rec.type == kTypeRrsig && Covered(rec) == type)) {
          r.answer.push_back(rec);
        }
      }
      if (r.answer.empty()) {
        r.rcode = name_exists ? kRcodeNoError : kRcodeNxDomain;
        for (const Record& rec : records_) {
          if (rec.type == kTypeNsec || (rec.type == kTypeRrsig && Covered(rec) == kTypeNsec)) {
            r.authority.push_back(rec);
          }
        }
      }
      return r;
    };
  }
  int queries() const { return queries_; }

 private:
  std::vector<Record> records_;
  int queries_ = 0;
};

const char* kOwner = "_443._tcp.www.example.test.";

class DnssecTest : public ::testing::Test {
 protected:
  DnssecTest()
      : parent_("test.", kNow - kDay, kNow + 30 * kDay),
        child_("example.test.", kNow - kDay, kNow + 30 * kDay) {
    dns_.Add(parent_.Sign({parent_.dnskey()}));
    UniqueRr ds = Rr(child_.DsText());
    dns_.Add(parent_.Sign({ds.get()}));
    dns_.Add(child_.Sign({child_.dnskey()}));
    tlsa_ = Rr(std::string(kOwner) + " 300 IN TLSA 3 1 1 " + std::string(64, 'a'));
    tlsa2_ = Rr(std::string(kOwner) + " 300 IN TLSA 3 1 1 " + std::string(64, 'b'));
    nsec_apex_ = Rr(std::string("example.test. 300 IN NSEC ") + kOwner + " DNSKEY RRSIG NSEC");
    nsec_owner_ = Rr(std::string(kOwner) + " 300 IN NSEC example.test. TLSA RRSIG NSEC");
  }

  void AddTlsa() { dns_.Add(child_.Sign({tlsa_.get(), tlsa2_.get()})); }
  void AddNsec() {
    dns_.Add(child_.Sign({nsec_apex_.get()}));
    dns_.Add(child_.Sign({nsec_owner_.get()}));
  }

  TrustAnchor Anchor(const std::string& text) {
    auto a = ParseTrustAnchor(text, "anchor.txt");
    EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
    return a.ok() ? *a : TrustAnchor{};
  }

  Result<Validated> Validate(const TrustAnchor& anchor, uint16_t type = kTypeTlsa,
                             const std::string& owner = kOwner) {
    return ValidateAnswer(anchor, dns_.Lookup(), owner, type, kNow);
  }

  Signer parent_;
  Signer child_;
  FakeDns dns_;
  UniqueRr tlsa_;
  UniqueRr tlsa2_;
  UniqueRr nsec_apex_;
  UniqueRr nsec_owner_;
};

TEST_F(DnssecTest, SecureWithDnskeyAnchorOfTheZone) {
  AddTlsa();
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->rrset.size(), 2u);
  EXPECT_EQ(v->zone, "example.test.");
  EXPECT_EQ(v->anchor_type, "DNSKEY");
  EXPECT_EQ(v->anchor_key_tag, child_.tag());
  EXPECT_EQ(v->denial, DenialState::kNotApplicable);
}

TEST_F(DnssecTest, SecureWithDsAnchorOfTheParentFollowsTheDelegation) {
  AddTlsa();
  auto v = Validate(Anchor("; parent anchor\n\n" + parent_.DsText() + "\n"));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->zone, "example.test.");
  EXPECT_EQ(v->anchor_type, "DS");
  EXPECT_EQ(v->anchor_key_tag, parent_.tag());
  EXPECT_EQ(v->rrset.size(), 2u);
}

TEST_F(DnssecTest, TamperedRecordIsBogus) {
  AddTlsa();
  for (Record& r : dns_.records()) {
    if (r.type == kTypeTlsa) {
      r.rdata.back() ^= 1;
      break;
    }
  }
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("bogus: RRSIG over _443._tcp.www.example.test. TLSA does not "
                                   "verify with any DNSKEY of example.test."),
            std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, ExpiredSignatureIsBogus) {
  child_.SetWindow(kNow - 10 * kDay, kNow - kDay);
  AddTlsa();
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("bogus: RRSIG over _443._tcp.www.example.test. TLSA", 0), 0u)
      << v.error().message;
  EXPECT_NE(v.error().message.find("expired"), std::string::npos) << v.error().message;
}

TEST_F(DnssecTest, NotYetValidSignatureIsBogus) {
  child_.SetWindow(kNow + kDay, kNow + 10 * kDay);
  AddTlsa();
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("bogus: ", 0), 0u) << v.error().message;
}

TEST_F(DnssecTest, WrongAnchorIsBogus) {
  AddTlsa();
  Signer other("example.test.", kNow - kDay, kNow + kDay);
  auto v = Validate(Anchor(other.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("bogus: no DNSKEY of example.test. matches the trust anchor"),
            std::string::npos)
      << v.error().message;

  // A DS anchor whose digest is wrong selects no key either.
  std::string ds = child_.DsText();
  ds.back() = ds.back() == '0' ? '1' : '0';
  v = Validate(Anchor(ds));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("no DNSKEY of example.test. matches"), std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, AnchorForAnotherTreeIsBogus) {
  AddTlsa();
  Signer other("other.test.", kNow - kDay, kNow + kDay);
  auto v = Validate(Anchor(other.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("bogus: ", 0), 0u) << v.error().message;
  EXPECT_EQ(dns_.queries(), 0);
}

TEST_F(DnssecTest, MissingRrsigIsBogus) {
  AddTlsa();
  std::erase_if(dns_.records(),
                [](const Record& r) { return r.type == kTypeRrsig && Covered(r) == kTypeTlsa; });
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("bogus: no RRSIG over _443._tcp.www.example.test. TLSA"),
            std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, BrokenDelegationIsBogus) {
  AddTlsa();
  // The parent's signature over the child's DS no longer verifies.
  for (Record& r : dns_.records()) {
    if (r.type == kTypeDs) {
      r.rdata[0] ^= 1;  // The key tag: still a well-formed DS record.
    }
  }
  auto v = Validate(Anchor(parent_.DsText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("bogus: RRSIG over example.test. DS"), std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, SignedByAKeyOutsideTheChainIsBogus) {
  // The TLSA RRset is signed by a key that is not in example.test.'s
  // validated DNSKEY RRset.
  Signer rogue("example.test.", kNow - kDay, kNow + kDay);
  dns_.Add(rogue.Sign({tlsa_.get(), tlsa2_.get()}));
  auto v = Validate(Anchor(parent_.DsText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("does not verify with any DNSKEY of example.test."),
            std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, WildcardExpansionIsNotReportedSecure) {
  // Records signed at *._tcp.www.example.test. and served for the name
  // asked, as a server synthesizes them.
  UniqueRr wild = Rr("*._tcp.www.example.test. 300 IN TLSA 3 1 1 " + std::string(64, 'c'));
  for (Record r : child_.Sign({wild.get()})) {
    r.owner = kOwner;
    dns_.Add({r});
  }
  auto v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("synthesized from a wildcard"), std::string::npos)
      << v.error().message;
}

TEST_F(DnssecTest, NodataAndNxdomainNeedSignedDenial) {
  AddTlsa();
  auto v = Validate(Anchor(child_.DnskeyText()), kTypeA);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("bogus: no _443._tcp.www.example.test. A records and no "
                                   "NSEC/NSEC3"),
            std::string::npos)
      << v.error().message;

  AddNsec();
  v = Validate(Anchor(child_.DnskeyText()), kTypeA);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->rrset.empty());
  EXPECT_EQ(v->denial, DenialState::kValidated);
  EXPECT_EQ(v->zone, "example.test.");

  v = Validate(Anchor(child_.DnskeyText()), kTypeTlsa, "_25._tcp.www.example.test.");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->rcode, kRcodeNxDomain);
  EXPECT_EQ(v->denial, DenialState::kValidated);

  // An NSEC record saying TLSA exists does not deny TLSA.
  std::erase_if(dns_.records(), [](const Record& r) {
    return r.type == kTypeTlsa || (r.type == kTypeRrsig && Covered(r) == kTypeTlsa);
  });
  v = Validate(Anchor(child_.DnskeyText()));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("bogus: the NSEC records of example.test. do not prove", 0), 0u)
      << v.error().message;
}

TEST_F(DnssecTest, UnsignedDenialIsBogus) {
  AddNsec();
  std::erase_if(dns_.records(),
                [](const Record& r) { return r.type == kTypeRrsig && Covered(r) == kTypeNsec; });
  auto v = Validate(Anchor(child_.DnskeyText()), kTypeA);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message.rfind("bogus: ", 0), 0u) << v.error().message;
}

TEST(DnssecAnchorTest, ParsesCommentsBlankLinesAndParentheses) {
  auto a = ParseTrustAnchor(
      "; a comment\n"
      "\n"
      "example.test. 3600 IN DS 12345 13 2 (\n"
      "   e3b0c44298fc1c149afbf4c8996fb924 ; first half\n"
      "   27ae41e4649b934ca495991b7852b855 )\n"
      "Example.Test. IN DNSKEY 257 3 13 "
      "mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n",
      "ta.txt");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->zone, "example.test.");
  ASSERT_EQ(a->records.size(), 2u);
  EXPECT_NE(a->records[0].find("DS"), std::string::npos);
  EXPECT_NE(a->records[1].find("DNSKEY"), std::string::npos);
}

TEST(DnssecAnchorTest, RejectsBadFilesNamingTheLine) {
  struct Case {
    const char* text;
    const char* want;
  };
  for (const Case& c : {
           Case{"", "ta.txt: no DS or DNSKEY record"},
           Case{"; only a comment\n", "ta.txt: no DS or DNSKEY record"},
           Case{"\n\nexample.test. IN DS 1 13 2 zz\n", "ta.txt:3:"},
           Case{"example.test. IN A 127.0.0.1\n", "ta.txt:1: a A record"},
           Case{"example.test. IN DS 1 13 2 00ff\nother.test. IN DS 1 13 2 00ff\n",
                "ta.txt:2: record for other.test."},
           Case{"example.test. IN DS 1 13 2 ( 00ff\n", "ta.txt:1: '(' not closed"},
           Case{"garbage\n", "ta.txt:1:"},
       }) {
    auto a = ParseTrustAnchor(c.text, "ta.txt");
    ASSERT_FALSE(a.ok()) << c.text;
    EXPECT_EQ(a.error().code, ErrorCode::kUsage);
    EXPECT_EQ(a.error().message.rfind(c.want, 0), 0u) << a.error().message;
  }
}

TEST(DnssecAnchorTest, LoadReportsAMissingFile) {
  auto a = LoadTrustAnchor("/nonexistent/ta.txt");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kUsage);
}

}  // namespace
}  // namespace bulkhead::dns
