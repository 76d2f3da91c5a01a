#include "dns/dnssec.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "util/fs.h"
#include "util/text.h"

// Last: ldns's headers define macros that clash with some C++ headers.
#include "dns/ldns_ptr.h"

namespace bulkhead::dns {
namespace {

constexpr size_t kMaxShown = 80;
constexpr size_t kMaxAnchorRecords = 64;
constexpr uint16_t kClassIn = 1;

struct LdnsRrFree {
  void operator()(ldns_rr* p) const { ldns_rr_free(p); }
};
using UniqueRr = std::unique_ptr<ldns_rr, LdnsRrFree>;

std::string RdfText(const ldns_rdf* rdf) {
  UniqueChars s(rdf != nullptr ? ldns_rdf2str(rdf) : nullptr);
  return s ? std::string(s.get()) : std::string();
}

std::string NameText(const ldns_rdf* rdf) { return Canonical(RdfText(rdf)); }

std::string TypeText(uint16_t type) {
  UniqueChars s(ldns_rr_type2str(static_cast<ldns_rr_type>(type)));
  return s ? std::string(s.get()) : fmt::format("TYPE{}", type);
}

Error Bogus(std::string message) {
  return Error{"bogus: " + std::move(message), ErrorCode::kFailure};
}

// IsAtOrBelow reports whether canonical `name` equals canonical `zone` or is
// inside it.
bool IsAtOrBelow(const std::string& name, const std::string& zone) {
  if (zone == "." || name == zone) {
    return true;
  }
  return name.size() > zone.size() + 1 &&
         name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

// RecordToRr rebuilds an ldns record from a Record (its RDATA is already in
// uncompressed wire form), so ldns can check its signature.
UniqueRr RecordToRr(const Record& r) {
  UniqueRdf owner(ldns_dname_new_frm_str(r.owner.c_str()));
  if (!owner || r.rdata.size() > 0xffff) {
    return nullptr;
  }
  std::string wire(reinterpret_cast<const char*>(ldns_rdf_data(owner.get())),
                   ldns_rdf_size(owner.get()));
  auto put16 = [&wire](uint32_t v) {
    wire += static_cast<char>((v >> 8) & 0xff);
    wire += static_cast<char>(v & 0xff);
  };
  put16(r.type);
  put16(kClassIn);
  put16(r.ttl >> 16);
  put16(r.ttl & 0xffff);
  put16(static_cast<uint32_t>(r.rdata.size()));
  wire += r.rdata;
  ldns_rr* rr = nullptr;
  size_t pos = 0;
  if (ldns_wire2rr(&rr, reinterpret_cast<const uint8_t*>(wire.data()), wire.size(), &pos,
                   LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
    ldns_rr_free(rr);
    return nullptr;
  }
  return UniqueRr(rr);
}

UniqueRrList NewList() { return UniqueRrList(ldns_rr_list_new()); }

// PushClone appends a copy of `rr` to `list`. Returns false when out of
// memory.
bool PushClone(ldns_rr_list* list, const ldns_rr* rr) {
  ldns_rr* copy = ldns_rr_clone(rr);
  if (copy == nullptr) {
    return false;
  }
  if (!ldns_rr_list_push_rr(list, copy)) {
    ldns_rr_free(copy);
    return false;
  }
  return true;
}

// Select returns the records of `section` owned by `owner` of `type`.
Result<UniqueRrList> Select(const std::vector<Record>& section, const std::string& owner,
                            uint16_t type) {
  UniqueRrList out = NewList();
  if (!out) {
    return Err("out of memory");
  }
  for (const Record& r : section) {
    if (r.owner != owner || r.type != type) {
      continue;
    }
    UniqueRr rr = RecordToRr(r);
    if (!rr || !ldns_rr_list_push_rr(out.get(), rr.get())) {
      return Err("cannot convert the {} record of {}", TypeText(type), owner);
    }
    rr.release();  // Owned by the list now.
  }
  return out;
}

std::string Signer(const ldns_rr* rrsig) { return NameText(ldns_rr_rrsig_signame(rrsig)); }

uint16_t TypeCovered(const ldns_rr* rrsig) {
  const ldns_rdf* covered = ldns_rr_rrsig_typecovered(rrsig);
  return covered != nullptr ? static_cast<uint16_t>(ldns_rdf2rr_type(covered)) : 0;
}

// Signatures returns the RRSIGs in `section` at `owner` covering `covered`,
// made by `signer` (any signer if empty).
Result<UniqueRrList> Signatures(const std::vector<Record>& section, const std::string& owner,
                                uint16_t covered, const std::string& signer) {
  BH_ASSIGN(UniqueRrList all, Select(section, owner, kTypeRrsig));
  UniqueRrList out = NewList();
  if (!out) {
    return Err("out of memory");
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(all.get()); ++i) {
    const ldns_rr* sig = ldns_rr_list_rr(all.get(), i);
    if (TypeCovered(sig) == covered && (signer.empty() || Signer(sig) == signer) &&
        !PushClone(out.get(), sig)) {
      return Err("out of memory");
    }
  }
  return out;
}

// NotExpandedFromWildcard returns the RRSIGs of `sigs` whose Labels field
// equals the label count of `owner`, i.e. that sign the name itself rather
// than a wildcard it was synthesized from.
Result<UniqueRrList> NotExpandedFromWildcard(const ldns_rr_list* sigs, const std::string& owner) {
  size_t labels =
      owner == "." ? 0 : static_cast<size_t>(std::count(owner.begin(), owner.end(), '.'));
  UniqueRrList out = NewList();
  if (!out) {
    return Err("out of memory");
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i) {
    const ldns_rr* sig = ldns_rr_list_rr(sigs, i);
    const ldns_rdf* field = ldns_rr_rrsig_labels(sig);
    if (field != nullptr && ldns_rdf2native_int8(field) == labels && !PushClone(out.get(), sig)) {
      return Err("out of memory");
    }
  }
  return out;
}

// VerifyRrset checks that one of `sigs` over `rrset` verifies with one of
// `keys` at time `now`. `what` names the RRset, `keys_desc` the keys.
Status VerifyRrset(const ldns_rr_list* rrset, const ldns_rr_list* sigs, const ldns_rr_list* keys,
                   std::time_t now, const std::string& what, const std::string& keys_desc) {
  size_t n = ldns_rr_list_rr_count(sigs);
  if (n == 0) {
    return Bogus(fmt::format("no RRSIG over {} by {}", what, keys_desc));
  }
  ldns_status last = LDNS_STATUS_CRYPTO_BOGUS;
  for (size_t i = 0; i < n; ++i) {
    last = ldns_verify_rrsig_keylist_time(rrset, ldns_rr_list_rr(sigs, i), keys, now, nullptr);
    if (last == LDNS_STATUS_OK) {
      return OkStatus();
    }
  }
  return Bogus(fmt::format("RRSIG over {} does not verify with {}: {}", what, keys_desc,
                           ldns_get_errorstr_by_id(last)));
}

// ZoneKeysOf returns the zone keys (DNSKEYs with the Zone Key flag) of
// `dnskeys`.
Result<UniqueRrList> ZoneKeysOf(const ldns_rr_list* dnskeys) {
  UniqueRrList out = NewList();
  if (!out) {
    return Err("out of memory");
  }
  for (size_t i = 0; i < ldns_rr_list_rr_count(dnskeys); ++i) {
    const ldns_rr* key = ldns_rr_list_rr(dnskeys, i);
    if ((ldns_rdf2native_int16(ldns_rr_dnskey_flags(key)) & LDNS_KEY_ZONE_KEY) != 0 &&
        !PushClone(out.get(), key)) {
      return Err("out of memory");
    }
  }
  return out;
}

std::string RdataWire(const ldns_rr* rr) {
  UniqueBuffer buf(ldns_buffer_new(512));
  if (!buf || ldns_rr_rdata2buffer_wire(buf.get(), rr) != LDNS_STATUS_OK) {
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())),
                     ldns_buffer_position(buf.get()));
}

// Selects reports whether DS or DNSKEY record `ref` designates `key`.
bool Selects(const ldns_rr* ref, const ldns_rr* key) {
  if (ldns_rr_get_type(ref) == LDNS_RR_TYPE_DS) {
    return ldns_rr_compare_ds(ref, key);
  }
  std::string a = RdataWire(ref);
  return !a.empty() && a == RdataWire(key);
}

uint16_t KeyTagOf(const ldns_rr* ref) {
  if (ldns_rr_get_type(ref) == LDNS_RR_TYPE_DS) {
    return ldns_rdf2native_int16(ldns_rr_rdf(ref, 0));
  }
  return ldns_calc_keytag(ref);
}

Result<Response> Ask(const DnssecLookup& lookup, const std::string& name, uint16_t type) {
  auto r = lookup(name, type);
  if (!r.ok()) {
    return r.error().Wrap(fmt::format("looking up {} {}", name, TypeText(type)));
  }
  if (r->rcode != kRcodeNoError && r->rcode != kRcodeNxDomain) {
    return Err("looking up {} {}: response code {}", name, TypeText(type), r->rcode);
  }
  return r;
}

// DnskeysSelected fetches the DNSKEY RRset of `zone` and checks that it is
// signed by a key that one of `refs` (DS or DNSKEY records) designates.
// Returns the zone keys; *out_ref is the index in `refs` of the record the
// chain went through. `refs_desc` names where the refs come from.
Result<UniqueRrList> DnskeysSelected(const DnssecLookup& lookup, const std::string& zone,
                                     const ldns_rr_list* refs, const std::string& refs_desc,
                                     std::time_t now, size_t* out_ref) {
  BH_ASSIGN(Response r, Ask(lookup, zone, kTypeDnskey));
  BH_ASSIGN(UniqueRrList dnskeys, Select(r.answer, zone, kTypeDnskey));
  if (ldns_rr_list_rr_count(dnskeys.get()) == 0) {
    return Bogus(fmt::format("no DNSKEY records for {} (is the zone signed?)", zone));
  }
  BH_ASSIGN(UniqueRrList sigs, Signatures(r.answer, zone, kTypeDnskey, zone));
  std::string what = zone + " DNSKEY";
  bool any_selected = false;
  Status last = OkStatus();
  for (size_t i = 0; i < ldns_rr_list_rr_count(refs); ++i) {
    const ldns_rr* ref = ldns_rr_list_rr(refs, i);
    for (size_t k = 0; k < ldns_rr_list_rr_count(dnskeys.get()); ++k) {
      const ldns_rr* key = ldns_rr_list_rr(dnskeys.get(), k);
      if (!Selects(ref, key)) {
        continue;
      }
      any_selected = true;
      UniqueRrList one = NewList();
      if (!one || !PushClone(one.get(), key)) {
        return Err("out of memory");
      }
      last =
          VerifyRrset(dnskeys.get(), sigs.get(), one.get(), now, what,
                      fmt::format("the key {} that {} selects", ldns_calc_keytag(key), refs_desc));
      if (last.ok()) {
        *out_ref = i;
        return ZoneKeysOf(dnskeys.get());
      }
    }
  }
  if (!any_selected) {
    return Bogus(fmt::format("no DNSKEY of {} matches {}: no chain of trust", zone, refs_desc));
  }
  return last.error();
}

// NamesBetween returns the names from just below `top` down to `bottom`
// (both canonical, bottom at or below top), top-down.
std::vector<std::string> NamesBetween(const std::string& top, const std::string& bottom) {
  std::vector<std::string> out;
  std::string n = bottom;
  while (n != top && n != ".") {
    out.push_back(n);
    size_t dot = n.find('.');
    n = dot + 1 >= n.size() ? std::string(".") : n.substr(dot + 1);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

// ChainStart is where a validation chain starts, for the report.
struct ChainStart {
  std::string anchor_type;
  uint16_t anchor_key_tag = 0;
};

Result<UniqueRrList> ParseAnchorRecords(const TrustAnchor& anchor) {
  UniqueRrList out = NewList();
  if (!out) {
    return Err("out of memory");
  }
  for (const std::string& text : anchor.records) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) {
      ldns_rr_free(rr);
      return ErrCode(ErrorCode::kUsage, "{}: cannot parse a record again", anchor.source);
    }
    if (!ldns_rr_list_push_rr(out.get(), rr)) {
      ldns_rr_free(rr);
      return Err("out of memory");
    }
  }
  return out;
}

// ZoneKeys returns the validated zone keys of `zone` (at or below the
// anchor's zone), following DS records down from the anchor.
Result<UniqueRrList> ZoneKeys(const TrustAnchor& anchor, const DnssecLookup& lookup,
                              const std::string& zone, std::time_t now, ChainStart* out_start) {
  BH_ASSIGN(UniqueRrList refs, ParseAnchorRecords(anchor));
  size_t used = 0;
  BH_ASSIGN(UniqueRrList keys,
            DnskeysSelected(lookup, anchor.zone, refs.get(),
                            fmt::format("the trust anchor ({})", anchor.source), now, &used));
  const ldns_rr* ref = ldns_rr_list_rr(refs.get(), used);
  out_start->anchor_type = ldns_rr_get_type(ref) == LDNS_RR_TYPE_DS ? "DS" : "DNSKEY";
  out_start->anchor_key_tag = KeyTagOf(ref);
  std::string current = anchor.zone;
  for (const std::string& name : NamesBetween(anchor.zone, zone)) {
    BH_ASSIGN(Response r, Ask(lookup, name, kTypeDs));
    BH_ASSIGN(UniqueRrList ds, Select(r.answer, name, kTypeDs));
    if (ldns_rr_list_rr_count(ds.get()) == 0) {
      if (name == zone) {
        return Bogus(fmt::format("no DS records for {} in {}: no chain of trust from {}", zone,
                                 current, anchor.zone));
      }
      continue;  // Not a zone cut: still inside `current`.
    }
    BH_ASSIGN(UniqueRrList ds_sigs, Signatures(r.answer, name, kTypeDs, current));
    BH_TRY(VerifyRrset(ds.get(), ds_sigs.get(), keys.get(), now, name + " DS",
                       "any DNSKEY of " + current));
    size_t unused = 0;
    BH_ASSIGN(keys, DnskeysSelected(lookup, name, ds.get(),
                                    fmt::format("the DS records of {} in {}", name, current), now,
                                    &unused));
    current = name;
  }
  if (current != zone) {
    return Bogus(
        fmt::format("{} is not a zone below {} (no DS records for it)", zone, anchor.zone));
  }
  return keys;
}

// PickSigner returns the first signer of `sigs` that may sign for `owner`
// under the anchor: at or below the anchor's zone and at or above owner.
std::string PickSigner(const ldns_rr_list* sigs, const std::string& owner,
                       const std::string& anchor_zone) {
  for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i) {
    std::string s = Signer(ldns_rr_list_rr(sigs, i));
    if (IsAtOrBelow(owner, s) && IsAtOrBelow(s, anchor_zone)) {
      return s;
    }
  }
  return std::string();
}

std::string SignerList(const ldns_rr_list* sigs) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_list_rr_count(sigs) && i < 4; ++i) {
    out += (i > 0 ? ", " : "") + Signer(ldns_rr_list_rr(sigs, i));
  }
  return out;
}

// ValidateDenial checks that the NSEC or NSEC3 records of the authority
// section are signed by the zone and prove that `type` at `owner` does not
// exist.
Result<Validated> ValidateDenial(const TrustAnchor& anchor, const DnssecLookup& lookup,
                                 const Response& r, const std::string& owner, uint16_t type,
                                 std::time_t now) {
  std::string what = owner + " " + TypeText(type);
  uint16_t denial_type = 0;
  for (const Record& rec : r.authority) {
    if (rec.type == kTypeNsec || rec.type == kTypeNsec3) {
      denial_type = rec.type;
      break;
    }
  }
  if (denial_type == 0) {
    return Bogus(
        fmt::format("no {} records and no NSEC/NSEC3 records proving that none exist", what));
  }
  // Group the denial records by owner: each owner's RRset is signed apart.
  std::vector<std::string> owners;
  for (const Record& rec : r.authority) {
    if (rec.type == denial_type &&
        std::find(owners.begin(), owners.end(), rec.owner) == owners.end()) {
      owners.push_back(rec.owner);
    }
  }
  UniqueRrList all_sigs = NewList();
  UniqueRrList all_denials = NewList();
  if (!all_sigs || !all_denials) {
    return Err("out of memory");
  }
  std::string zone;
  UniqueRrList keys;
  ChainStart start;
  for (const std::string& o : owners) {
    BH_ASSIGN(UniqueRrList set, Select(r.authority, o, denial_type));
    BH_ASSIGN(UniqueRrList sigs, Signatures(r.authority, o, denial_type, ""));
    if (zone.empty()) {
      zone = PickSigner(sigs.get(), owner, anchor.zone);
      if (zone.empty()) {
        return Bogus(fmt::format("no usable RRSIG over {} {} (signers: {}) under {}", o,
                                 TypeText(denial_type), SignerList(sigs.get()), anchor.zone));
      }
      BH_ASSIGN(keys, ZoneKeys(anchor, lookup, zone, now, &start));
    }
    BH_ASSIGN(UniqueRrList zone_sigs, Signatures(r.authority, o, denial_type, zone));
    BH_TRY(VerifyRrset(set.get(), zone_sigs.get(), keys.get(), now, o + " " + TypeText(denial_type),
                       "any DNSKEY of " + zone));
    for (size_t i = 0; i < ldns_rr_list_rr_count(set.get()); ++i) {
      if (!PushClone(all_denials.get(), ldns_rr_list_rr(set.get(), i))) {
        return Err("out of memory");
      }
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(zone_sigs.get()); ++i) {
      if (!PushClone(all_sigs.get(), ldns_rr_list_rr(zone_sigs.get(), i))) {
        return Err("out of memory");
      }
    }
  }
  UniqueRr question(ldns_rr_new());
  UniqueRdf qname(ldns_dname_new_frm_str(owner.c_str()));
  if (!question || !qname) {
    return Err("out of memory");
  }
  ldns_rr_set_owner(question.get(), qname.release());
  ldns_rr_set_type(question.get(), static_cast<ldns_rr_type>(type));
  ldns_rr_set_class(question.get(), LDNS_RR_CLASS_IN);
  ldns_status st =
      denial_type == kTypeNsec
          ? ldns_dnssec_verify_denial(question.get(), all_denials.get(), all_sigs.get())
          : ldns_dnssec_verify_denial_nsec3(question.get(), all_denials.get(), all_sigs.get(),
                                            static_cast<ldns_pkt_rcode>(r.rcode),
                                            static_cast<ldns_rr_type>(type),
                                            /*packet_nodata=*/r.rcode == kRcodeNoError);
  if (st != LDNS_STATUS_OK) {
    return Bogus(fmt::format("the {} records of {} do not prove that {} does not exist: {}",
                             TypeText(denial_type), zone, what, ldns_get_errorstr_by_id(st)));
  }
  Validated v;
  v.rcode = r.rcode;
  v.denial = DenialState::kValidated;
  v.zone = zone;
  v.anchor_type = start.anchor_type;
  v.anchor_key_tag = start.anchor_key_tag;
  return v;
}

// TakeRecord parses one record of a trust-anchor file (starting on `line`)
// into *anchor. Returns a kUsage error naming source and line.
Status TakeRecord(const std::string& text, int line, std::string_view source, TrustAnchor* anchor) {
  ldns_rr* raw = nullptr;
  ldns_status st = ldns_rr_new_frm_str(&raw, text.c_str(), 3600, nullptr, nullptr);
  UniqueRr rr(raw);
  if (st != LDNS_STATUS_OK || !rr) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: not a DNS record ({}): {}", source, line,
                   ldns_get_errorstr_by_id(st), PrintableExcerpt(text, kMaxShown));
  }
  ldns_rr_type t = ldns_rr_get_type(rr.get());
  if (t != LDNS_RR_TYPE_DS && t != LDNS_RR_TYPE_DNSKEY) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: a {} record; a trust anchor is DS or DNSKEY records",
                   source, line, TypeText(static_cast<uint16_t>(t)));
  }
  if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: class is not IN", source, line);
  }
  std::string owner = NameText(ldns_rr_owner(rr.get()));
  if (anchor->zone.empty()) {
    anchor->zone = owner;
  } else if (anchor->zone != owner) {
    return ErrCode(ErrorCode::kUsage,
                   "{}:{}: record for {}, but earlier ones are for {}; give one zone's anchor",
                   source, line, owner, anchor->zone);
  }
  if (anchor->records.size() >= kMaxAnchorRecords) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: more than {} records", source, line,
                   kMaxAnchorRecords);
  }
  UniqueChars printed(ldns_rr2str(rr.get()));
  if (!printed) {
    return Err("out of memory");
  }
  std::string s(printed.get());
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  anchor->records.push_back(std::move(s));
  return OkStatus();
}

}  // namespace

Result<TrustAnchor> ParseTrustAnchor(std::string_view text, std::string_view source) {
  TrustAnchor anchor;
  anchor.source = std::string(source);
  std::string pending;  // A record continued over lines by parentheses.
  int open = 0;
  int start_line = 0;
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    pos = end == std::string_view::npos ? text.size() : end + 1;
    ++line_no;
    line = line.substr(0, line.find(';'));  // DS/DNSKEY have no quoted strings.
    std::string cleaned;
    for (char c : line) {
      if (c == '(') {
        ++open;
        cleaned += ' ';
      } else if (c == ')') {
        --open;
        cleaned += ' ';
      } else {
        cleaned += (c == '\r' || c == '\t') ? ' ' : c;
      }
    }
    if (open < 0) {
      return ErrCode(ErrorCode::kUsage, "{}:{}: unbalanced ')'", source, line_no);
    }
    if (pending.empty() && cleaned.find_first_not_of(' ') == std::string::npos) {
      continue;
    }
    if (pending.empty()) {
      start_line = line_no;
    }
    pending += cleaned + " ";
    if (open == 0) {
      pending.erase(pending.find_last_not_of(' ') + 1);
      pending.erase(0, pending.find_first_not_of(' '));
      BH_TRY(TakeRecord(pending, start_line, source, &anchor));
      pending.clear();
    }
  }
  if (open != 0) {
    return ErrCode(ErrorCode::kUsage, "{}:{}: '(' not closed", source, start_line);
  }
  if (anchor.records.empty()) {
    return ErrCode(ErrorCode::kUsage, "{}: no DS or DNSKEY record", source);
  }
  return anchor;
}

Result<TrustAnchor> LoadTrustAnchor(const std::string& path) {
  auto text = ReadFileCapped(path, kMaxTrustAnchorBytes);
  if (!text.ok()) {
    return ErrCode(ErrorCode::kUsage, "trust anchor: {}", text.error().message);
  }
  return ParseTrustAnchor(*text, path);
}

DnssecLookup LookupVia(const Server& server, QueryOptions options) {
  options.dnssec_ok = true;
  options.checking_disabled = true;
  return [server, options](const std::string& name, uint16_t type) {
    return Query(server, name, type, options);
  };
}

Result<Validated> ValidateAnswer(const TrustAnchor& anchor, const DnssecLookup& lookup,
                                 std::string_view owner_in, uint16_t type, std::time_t now) {
  std::string owner = Canonical(owner_in);
  std::string what = owner + " " + TypeText(type);
  if (!IsAtOrBelow(owner, anchor.zone)) {
    return Bogus(
        fmt::format("the trust anchor is for {}, which does not contain {}", anchor.zone, owner));
  }
  BH_ASSIGN(Response r, Ask(lookup, owner, type));
  BH_ASSIGN(UniqueRrList rrset, Select(r.answer, owner, type));
  if (ldns_rr_list_rr_count(rrset.get()) == 0) {
    for (const Record& rec : r.answer) {
      if (rec.type == kTypeCname || rec.type == 39 /* DNAME */) {
        return Err(
            "{}: the answer goes through a {} ({}), which is not validated; ask for the "
            "target name",
            what, TypeText(rec.type), rec.owner);
      }
    }
    return ValidateDenial(anchor, lookup, r, owner, type, now);
  }
  BH_ASSIGN(UniqueRrList sigs, Signatures(r.answer, owner, type, ""));
  if (ldns_rr_list_rr_count(sigs.get()) == 0) {
    return Bogus(fmt::format("no RRSIG over {} in the answer (is the zone signed?)", what));
  }
  std::string zone = PickSigner(sigs.get(), owner, anchor.zone);
  if (zone.empty()) {
    return Bogus(
        fmt::format("{} is signed by {}, not by a zone at or below the trust "
                    "anchor's {}",
                    what, SignerList(sigs.get()), anchor.zone));
  }
  ChainStart start;
  BH_ASSIGN(UniqueRrList keys, ZoneKeys(anchor, lookup, zone, now, &start));
  BH_ASSIGN(UniqueRrList zone_sigs, Signatures(r.answer, owner, type, zone));
  BH_ASSIGN(UniqueRrList exact_sigs, NotExpandedFromWildcard(zone_sigs.get(), owner));
  if (ldns_rr_list_rr_count(exact_sigs.get()) == 0 && ldns_rr_list_rr_count(zone_sigs.get()) > 0) {
    // A wildcard expansion is secure only with a proof that the name itself
    // does not exist (RFC 4035 section 5.3.4), which is not checked here.
    return Err(
        "{}: the answer is synthesized from a wildcard, which is not validated; publish "
        "the records at the name itself",
        what);
  }
  BH_TRY(
      VerifyRrset(rrset.get(), exact_sigs.get(), keys.get(), now, what, "any DNSKEY of " + zone));
  Validated v;
  v.rcode = r.rcode;
  for (const Record& rec : r.answer) {
    if (rec.owner == owner && rec.type == type) {
      v.rrset.push_back(rec);
    }
  }
  v.zone = zone;
  v.anchor_type = start.anchor_type;
  v.anchor_key_tag = start.anchor_key_tag;
  return v;
}

}  // namespace bulkhead::dns
