// The RFC 2136 updater: TSIG-signed dynamic updates built and sent by ldns.
#include "challenge/dns01.h"

#include <sys/random.h>
#include <sys/time.h>

#include <arpa/inet.h>

#include <array>
#include <memory>

#include "challenge/dns01.h"
#include "util/base64url.h"
#include "util/log.h"

// Last: ldns's headers define macros that clash with some C++ headers.
#include "dns/ldns_ptr.h"

namespace bulkhead::challenge {
namespace {

using dns::UniquePkt;
using dns::UniqueRdf;
using dns::UniqueResolver;
using dns::UniqueRrList;

// kRcodeNames names the update rcodes an operator is likely to see.
std::string RcodeName(int rcode) {
  switch (rcode) {
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED (is the key allowed to update this zone?)";
    case 9:
      return "NOTAUTH (wrong key, or the server is not authoritative for the zone)";
    case 10:
      return "NOTZONE";
    default:
      return fmt::format("rcode {}", rcode);
  }
}

class Rfc2136Updater : public RecordUpdater {
 public:
  Rfc2136Updater(dns::Server server, TsigKey key, uint32_t ttl, std::chrono::milliseconds timeout)
      : server_(std::move(server)), key_(std::move(key)), ttl_(ttl), timeout_(timeout) {}

  Status Add(const std::string& record_name, const std::string& value) override {
    return Send(record_name, value, /*add=*/true);
  }

  Status Delete(const std::string& record_name, const std::string& value) override {
    return Send(record_name, value, /*add=*/false);
  }

  std::string Describe() const override {
    return fmt::format("RFC 2136 updates to {} (key {})", server_.ToString(), key_.name);
  }

 private:
  Result<UniqueResolver> MakeResolver() const {
    std::array<unsigned char, 16> buf;
    bool v4 = ::inet_pton(AF_INET, server_.address.c_str(), buf.data()) == 1;
    UniqueRdf ns(ldns_rdf_new_frm_str(v4 ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
                                      server_.address.c_str()));
    UniqueResolver res(ldns_resolver_new());
    if (!ns || !res || ldns_resolver_push_nameserver(res.get(), ns.get()) != LDNS_STATUS_OK) {
      return Err("RFC 2136: cannot set up a resolver for {}", server_.ToString());
    }
    ldns_resolver_set_port(res.get(), server_.port);
    ldns_resolver_set_random(res.get(), false);
    ldns_resolver_set_retry(res.get(), 1);
    ldns_resolver_set_retrans(res.get(), 1);
    ldns_resolver_set_fallback(res.get(), true);
    ldns_resolver_set_recursive(res.get(), false);
    struct timeval tv;
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ldns_resolver_set_timeout(res.get(), tv);
    // ldns copies these strings.
    std::string secret(key_.secret.view());
    ldns_resolver_set_tsig_keyname(res.get(), key_.name.c_str());
    ldns_resolver_set_tsig_algorithm(res.get(), "hmac-sha256.");
    ldns_resolver_set_tsig_keydata(res.get(), secret.c_str());
    OPENSSL_cleanse(secret.data(), secret.size());
    return res;
  }

  Status Send(const std::string& record_name, const std::string& value, bool add) {
    if (!IsSafeRecordName(record_name) || !IsBase64UrlToken(value)) {
      return Err("RFC 2136: refusing an unsafe record name or value");
    }
    dns::QueryOptions q;
    q.timeout = timeout_;
    q.recursion_desired = false;
    auto zone = dns::FindZone(server_, record_name, q);
    if (!zone.ok()) {
      return zone.error().Wrap(fmt::format("RFC 2136: finding the zone of {}", record_name));
    }
    std::string text = fmt::format("{} {} IN TXT \"{}\"", record_name, add ? ttl_ : 0, value);
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      return Err("RFC 2136: cannot build the TXT record for {}", record_name);
    }
    if (!add) {
      // RFC 2136 2.5.4: class NONE, TTL 0 deletes exactly this RR.
      ldns_rr_set_class(rr, LDNS_RR_CLASS_NONE);
    }
    UniqueRrList updates(ldns_rr_list_new());
    if (!updates || !ldns_rr_list_push_rr(updates.get(), rr)) {
      ldns_rr_free(rr);
      return Err("out of memory");
    }
    UniqueRdf zone_rdf(ldns_dname_new_frm_str(zone->c_str()));
    if (!zone_rdf) {
      return Err("RFC 2136: invalid zone name {}", *zone);
    }
    // The packet takes the zone name; it copies the update list.
    UniquePkt pkt(ldns_update_pkt_new(zone_rdf.release(), LDNS_RR_CLASS_IN, nullptr,
                                      updates.get(), nullptr));
    if (!pkt) {
      return Err("RFC 2136: cannot build the update");
    }
    uint16_t id = 0;
    if (::getrandom(&id, sizeof(id), 0) != static_cast<ssize_t>(sizeof(id))) {
      id = 0x4242;
    }
    ldns_pkt_set_id(pkt.get(), id);
    ldns_pkt_set_rd(pkt.get(), false);
    BH_ASSIGN(UniqueResolver res, MakeResolver());
    if (ldns_update_pkt_tsig_add(pkt.get(), res.get()) != LDNS_STATUS_OK) {
      return Err("RFC 2136: cannot sign the update with key {}", key_.name);
    }
    ldns_pkt* raw = nullptr;
    ldns_status st = ldns_resolver_send_pkt(&raw, res.get(), pkt.get());
    UniquePkt reply(raw);
    std::string what = fmt::format("RFC 2136 {} of TXT {} in zone {} at {}",
                                   add ? "add" : "delete", record_name, *zone, server_.ToString());
    if (st != LDNS_STATUS_OK || !reply) {
      return ErrCode(ErrorCode::kTransient, "{}: {}", what,
                     st != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(st) : "no reply");
    }
    if (ldns_pkt_id(reply.get()) != id) {
      return Err("{}: the reply's ID does not match", what);
    }
    int rcode = static_cast<int>(ldns_pkt_get_rcode(reply.get()));
    if (rcode != 0) {
      return Err("{}: the server answered {}", what, RcodeName(rcode));
    }
    LogDebug("{}: done", what);
    return OkStatus();
  }

  dns::Server server_;
  TsigKey key_;
  uint32_t ttl_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

Result<std::unique_ptr<RecordUpdater>> NewRfc2136Updater(const dns::Server& server, TsigKey key,
                                                         uint32_t ttl,
                                                         std::chrono::milliseconds timeout) {
  return std::unique_ptr<RecordUpdater>(
      std::make_unique<Rfc2136Updater>(server, std::move(key), ttl, timeout));
}

}  // namespace bulkhead::challenge
