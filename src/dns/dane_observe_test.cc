#include "dns/dane_observe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/key.h"
#include "dns/dane_rollover.h"

namespace bulkhead::dns {
namespace {

std::string Spki() {
  static const std::string spki = *crypto::PrivateKey::Generate(crypto::KeyType::kEc256)->PublicKeyDer();
  return spki;
}

std::string Wire(uint8_t u, uint8_t s, uint8_t m, std::string_view data) {
  std::string out{static_cast<char>(u), static_cast<char>(s), static_cast<char>(m)};
  out.append(data);
  return out;
}

TEST(DaneObserve, MatchesTheKeyUnderEveryMatchingType) {
  crypto::CertInfo holder;
  holder.public_key_der = Spki();
  for (TlsaMatching m : {TlsaMatching::kFull, TlsaMatching::kSha256, TlsaMatching::kSha512}) {
    TlsaRecord r;
    r.mtype = m;
    r.data = *AssociationData(holder, TlsaSelector::kSpki, m);
    EXPECT_TRUE(RecordNamesSpki(r, Spki())) << static_cast<int>(m);
    auto parsed = ParseTlsaWire(Wire(3, 1, static_cast<uint8_t>(m), r.data));
    ASSERT_TRUE(parsed.ok());
    EXPECT_TRUE(RecordNamesSpki(*parsed, Spki()));
  }
}

TEST(DaneObserve, OtherKeysUsagesAndSelectorsDoNotCount) {
  TlsaRecord r = *SpkiRecord(Spki());
  std::string other = *crypto::PrivateKey::Generate(crypto::KeyType::kEc256)->PublicKeyDer();
  EXPECT_FALSE(RecordNamesSpki(r, other));
  EXPECT_FALSE(RecordNamesSpki(r, ""));
  TlsaRecord pkix = r;
  pkix.usage = TlsaUsage::kPkixEe;  // Needs PKIX too: not what a rollover publishes.
  EXPECT_FALSE(RecordNamesSpki(pkix, Spki()));
  TlsaRecord cert = r;
  cert.selector = TlsaSelector::kCert;
  EXPECT_FALSE(RecordNamesSpki(cert, Spki()));
  TlsaRecord truncated = r;
  truncated.data.pop_back();
  EXPECT_FALSE(RecordNamesSpki(truncated, Spki()));
}

TEST(DaneObserve, WireParserRejectsShortAndUnknown) {
  EXPECT_FALSE(ParseTlsaWire("").ok());
  EXPECT_FALSE(ParseTlsaWire(std::string("\x03\x01\x01", 3)).ok());
  EXPECT_FALSE(ParseTlsaWire(Wire(4, 1, 1, "x")).ok());
  EXPECT_FALSE(ParseTlsaWire(Wire(3, 2, 1, "x")).ok());
  EXPECT_FALSE(ParseTlsaWire(Wire(3, 1, 3, "x")).ok());
  auto ok = ParseTlsaWire(Wire(2, 0, 0, "abc"));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->usage, TlsaUsage::kDaneTa);
  EXPECT_EQ(ok->data, "abc");
}

TEST(DaneObserve, ASilentServerIsAnErrorNotAbsence) {
  // A UDP socket of ours that never answers: the query times out.
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  TlsaLookup lookup;
  lookup.resolver = Server{"127.0.0.1", ntohs(addr.sin_port)};
  lookup.query.timeout = std::chrono::milliseconds(200);
  auto r = ObservePublished({"_25._tcp.mail.example.test."}, Spki(), lookup);
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("_25._tcp.mail.example.test."), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace bulkhead::dns
