#include "dns/query.h"

#include <arpa/inet.h>
#include <sys/random.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>

#include "util/fs.h"
#include "util/text.h"

// Last: ldns's headers define macros that clash with some C++ headers.
#include "dns/ldns_ptr.h"

namespace bulkhead::dns {
namespace {

constexpr size_t kMaxShown = 80;
constexpr size_t kMaxResolvConf = 64 * 1024;
constexpr size_t kMaxNsServers = 16;
constexpr uint16_t kEdnsUdpSize = 1232;  // Avoids IP fragmentation.

bool IsIpLiteral(const std::string& s, int* out_family) {
  std::array<unsigned char, 16> buf;
  for (int af : {AF_INET, AF_INET6}) {
    if (::inet_pton(af, s.c_str(), buf.data()) == 1) {
      *out_family = af;
      return true;
    }
  }
  return false;
}

std::string RdfText(const ldns_rdf* rdf) {
  UniqueChars s(ldns_rdf2str(rdf));
  return s ? std::string(s.get()) : std::string();
}

// ToRecord copies what callers need out of an ldns record.
Result<Record> ToRecord(const ldns_rr* rr) {
  Record r;
  r.owner = Canonical(AsciiLower(RdfText(ldns_rr_owner(rr))));
  r.type = static_cast<uint16_t>(ldns_rr_get_type(rr));
  r.ttl = ldns_rr_ttl(rr);
  UniqueBuffer buf(ldns_buffer_new(512));
  if (!buf) {
    return Err("out of memory");
  }
  if (ldns_rr_rdata2buffer_wire(buf.get(), rr) != LDNS_STATUS_OK) {
    return Err("cannot serialize the RDATA of a {} record", r.type);
  }
  r.rdata.assign(reinterpret_cast<const char*>(ldns_buffer_begin(buf.get())),
                 ldns_buffer_position(buf.get()));
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    if (i > 0) {
      r.text += ' ';
    }
    r.text += RdfText(ldns_rr_rdf(rr, i));
  }
  if (r.type == kTypeCname || r.type == kTypeNs) {
    r.text = Canonical(AsciiLower(r.text));
  }
  return r;
}

Status CopySection(const ldns_rr_list* list, std::vector<Record>* out) {
  if (list == nullptr) {
    return OkStatus();
  }
  size_t n = std::min(ldns_rr_list_rr_count(list), kMaxRecords);
  for (size_t i = 0; i < n; ++i) {
    BH_ASSIGN(Record r, ToRecord(ldns_rr_list_rr(list, i)));
    out->push_back(std::move(r));
  }
  return OkStatus();
}

uint16_t RandomId() {
  uint16_t id = 0;
  if (::getrandom(&id, sizeof(id), 0) != static_cast<ssize_t>(sizeof(id))) {
    // getrandom on a 2-byte buffer does not fail once the pool is ready;
    // a fixed ID would only weaken spoofing resistance, not correctness.
    id = 0x4242;
  }
  return id;
}

// ParentName returns `name` (canonical) without its first label, or "" for
// the root.
std::string ParentName(const std::string& name) {
  if (name == ".") {
    return "";
  }
  size_t dot = name.find('.');
  return dot + 1 >= name.size() ? std::string(".") : name.substr(dot + 1);
}

}  // namespace

std::string Server::ToString() const {
  if (address.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", address, port);
  }
  return fmt::format("{}:{}", address, port);
}

Result<Server> ParseServer(std::string_view text, uint16_t default_port) {
  auto bad = [&] {
    return ErrCode(ErrorCode::kUsage, "DNS server \"{}\": expected ADDR[:PORT] or [IPV6]:PORT",
                   PrintableExcerpt(text, kMaxShown));
  };
  std::string host;
  std::string port;
  bool has_port = false;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return bad();
    }
    host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        return bad();
      }
      has_port = true;
      port = std::string(rest.substr(1));
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = std::string(text.substr(0, colon));
    has_port = true;
    port = std::string(text.substr(colon + 1));
  } else {
    host = std::string(text);  // IPv4 without a port, or a bare IPv6 address.
  }
  int family = 0;
  if (!IsIpLiteral(host, &family)) {
    return bad();
  }
  Server s{host, default_port};
  if (has_port) {
    if (port.empty() || port.size() > 5 ||
        port.find_first_not_of("0123456789") != std::string::npos) {
      return bad();
    }
    int p = std::stoi(port);
    if (p < 1 || p > 65535) {
      return bad();
    }
    s.port = static_cast<uint16_t>(p);
  }
  return s;
}

Result<std::vector<Server>> SystemResolvers(const std::string& resolv_conf) {
  BH_ASSIGN(std::string text, ReadFileCapped(resolv_conf, kMaxResolvConf));
  std::vector<Server> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    constexpr std::string_view kKey = "nameserver";
    if (line.compare(0, kKey.size(), kKey) != 0 || line.size() <= kKey.size() ||
        (line[kKey.size()] != ' ' && line[kKey.size()] != '\t')) {
      continue;
    }
    std::string addr = line.substr(kKey.size());
    addr.erase(0, addr.find_first_not_of(" \t"));
    addr = addr.substr(0, addr.find_first_of(" \t\r#;"));
    // A scoped IPv6 address ("fe80::1%eth0") cannot be given to ldns.
    int family = 0;
    if (IsIpLiteral(addr, &family)) {
      out.push_back(Server{addr, 53});
    }
  }
  if (out.empty()) {
    return Err("{} lists no usable nameserver", resolv_conf);
  }
  return out;
}

std::string Canonical(std::string_view name) {
  std::string s = AsciiLower(name);
  while (!s.empty() && s.back() == '.') {
    s.pop_back();
  }
  return s + ".";
}

Result<Response> Query(const Server& server, std::string_view name, uint16_t type,
                       const QueryOptions& options) {
  std::string where = server.ToString();
  std::string qname = Canonical(name);
  UniqueRdf dname(ldns_dname_new_frm_str(qname.c_str()));
  if (!dname) {
    return ErrCode(ErrorCode::kUsage, "invalid DNS name \"{}\"", PrintableExcerpt(name, kMaxShown));
  }
  int family = 0;
  if (!IsIpLiteral(server.address, &family)) {
    return ErrCode(ErrorCode::kUsage, "DNS server \"{}\" is not an IP address",
                   PrintableExcerpt(server.address, kMaxShown));
  }
  UniqueRdf ns(ldns_rdf_new_frm_str(family == AF_INET ? LDNS_RDF_TYPE_A : LDNS_RDF_TYPE_AAAA,
                                    server.address.c_str()));
  UniqueResolver res(ldns_resolver_new());
  if (!ns || !res || ldns_resolver_push_nameserver(res.get(), ns.get()) != LDNS_STATUS_OK) {
    return Err("DNS server {}: cannot set up the query", where);
  }
  ldns_resolver_set_port(res.get(), server.port);
  ldns_resolver_set_random(res.get(), false);
  ldns_resolver_set_retry(res.get(), 1);
  ldns_resolver_set_retrans(res.get(), 1);
  ldns_resolver_set_fallback(res.get(), true);
  ldns_resolver_set_defnames(res.get(), false);
  ldns_resolver_set_dnsrch(res.get(), false);
  ldns_resolver_set_recursive(res.get(), options.recursion_desired);
  struct timeval tv;
  tv.tv_sec = static_cast<time_t>(options.timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((options.timeout.count() % 1000) * 1000);
  ldns_resolver_set_timeout(res.get(), tv);

  // The query packet takes ownership of its name.
  UniquePkt q(ldns_pkt_query_new(ldns_rdf_clone(dname.get()), static_cast<ldns_rr_type>(type),
                                 LDNS_RR_CLASS_IN,
                                 options.recursion_desired ? LDNS_RD : 0));
  if (!q) {
    return Err("DNS server {}: cannot build the query", where);
  }
  uint16_t id = RandomId();
  ldns_pkt_set_id(q.get(), id);
  ldns_pkt_set_edns_udp_size(q.get(), kEdnsUdpSize);
  if (options.dnssec_ok) {
    ldns_pkt_set_edns_do(q.get(), true);
  }
  if (options.checking_disabled) {
    ldns_pkt_set_cd(q.get(), true);
  }
  ldns_pkt* raw = nullptr;
  ldns_status st = ldns_resolver_send_pkt(&raw, res.get(), q.get());
  UniquePkt reply(raw);
  if (st != LDNS_STATUS_OK || !reply) {
    return ErrCode(ErrorCode::kTransient, "DNS server {} did not answer {} {}: {}", where,
                   qname, type, st != LDNS_STATUS_OK ? ldns_get_errorstr_by_id(st) : "no reply");
  }
  if (ldns_pkt_id(reply.get()) != id) {
    return ErrCode(ErrorCode::kTransient, "DNS server {}: the answer's ID does not match", where);
  }
  const ldns_rr_list* question = ldns_pkt_question(reply.get());
  if (question == nullptr || ldns_rr_list_rr_count(question) != 1 ||
      ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(question, 0)), dname.get()) != 0 ||
      ldns_rr_get_type(ldns_rr_list_rr(question, 0)) != static_cast<ldns_rr_type>(type)) {
    return ErrCode(ErrorCode::kTransient, "DNS server {}: the answer is for another question",
                   where);
  }
  Response out;
  out.rcode = static_cast<int>(ldns_pkt_get_rcode(reply.get()));
  out.authoritative = ldns_pkt_aa(reply.get());
  out.authenticated_data = ldns_pkt_ad(reply.get());
  Status copied = CopySection(ldns_pkt_answer(reply.get()), &out.answer);
  if (copied.ok()) {
    copied = CopySection(ldns_pkt_authority(reply.get()), &out.authority);
  }
  if (copied.ok()) {
    copied = CopySection(ldns_pkt_additional(reply.get()), &out.additional);
  }
  if (!copied.ok()) {
    return copied.error().Wrap(fmt::format("DNS server {}", where));
  }
  return out;
}

Result<std::string> TxtStrings(const Record& record) {
  if (record.type != kTypeTxt) {
    return Err("not a TXT record");
  }
  std::string out;
  size_t i = 0;
  while (i < record.rdata.size()) {
    size_t len = static_cast<unsigned char>(record.rdata[i]);
    if (i + 1 + len > record.rdata.size()) {
      return Err("malformed TXT record at {}", record.owner);
    }
    out.append(record.rdata, i + 1, len);
    i += 1 + len;
  }
  return out;
}

Result<std::string> FindZone(const Server& server, std::string_view name,
                             const QueryOptions& options) {
  std::string current = Canonical(name);
  // A name with a CNAME is no apex (RFC 1034 3.6.2), so its zone is its
  // parent's; each step is one label up, bounded by the name's length.
  for (int step = 0; step < 128 && !current.empty(); ++step) {
    BH_ASSIGN(Response r, Query(server, current, kTypeSoa, options));
    if (r.rcode != kRcodeNoError && r.rcode != kRcodeNxDomain) {
      return Err("DNS server {} answered rcode {} for the SOA of {}", server.ToString(), r.rcode,
                 current);
    }
    bool cname = false;
    for (const Record& rec : r.answer) {
      if (rec.type == kTypeSoa && rec.owner == current) {
        return current;
      }
      cname = cname || (rec.type == kTypeCname && rec.owner == current);
    }
    if (!cname) {
      for (const Record& rec : r.authority) {
        if (rec.type == kTypeSoa) {
          return rec.owner;
        }
      }
      return Err("DNS server {} gave no SOA record for {} (is it authoritative for its zone, "
                 "or a recursive resolver?)",
                 server.ToString(), current);
    }
    current = ParentName(current);
  }
  return Err("no zone found for {}", PrintableExcerpt(name, kMaxShown));
}

Result<std::vector<NamedServer>> FindAuthoritative(const Server& resolver, std::string_view name,
                                                   const QueryOptions& options) {
  BH_ASSIGN(std::string zone, FindZone(resolver, name, options));
  BH_ASSIGN(Response ns, Query(resolver, zone, kTypeNs, options));
  std::vector<std::string> hosts;
  for (const Record& rec : ns.answer) {
    if (rec.type == kTypeNs && rec.owner == zone && hosts.size() < kMaxNsServers &&
        std::find(hosts.begin(), hosts.end(), rec.text) == hosts.end()) {
      hosts.push_back(rec.text);
    }
  }
  if (hosts.empty()) {
    return Err("zone {} has no NS records (asked {})", zone, resolver.ToString());
  }
  std::vector<NamedServer> out;
  for (const std::string& host : hosts) {
    std::vector<std::string> addrs;
    for (const Record& rec : ns.additional) {
      if ((rec.type == kTypeA || rec.type == kTypeAaaa) && rec.owner == host) {
        addrs.push_back(rec.text);
      }
    }
    if (addrs.empty()) {
      for (uint16_t t : {kTypeA, kTypeAaaa}) {
        auto r = Query(resolver, host, t, options);
        if (!r.ok()) {
          continue;
        }
        for (const Record& rec : r->answer) {
          if (rec.type == t && rec.owner == host) {
            addrs.push_back(rec.text);
          }
        }
      }
    }
    for (const std::string& a : addrs) {
      out.push_back(NamedServer{host, Server{a, 53}});
    }
  }
  if (out.empty()) {
    return Err("none of the name servers of {} has an address (asked {})", zone,
               resolver.ToString());
  }
  return out;
}

Result<std::string> FollowCnames(const Server& server, std::string_view name,
                                 const QueryOptions& options) {
  std::string current = Canonical(name);
  std::set<std::string> seen{current};
  for (int hop = 0; hop <= kMaxCnameHops; ++hop) {
    BH_ASSIGN(Response r, Query(server, current, kTypeCname, options));
    if (r.rcode != kRcodeNoError && r.rcode != kRcodeNxDomain) {
      return Err("DNS server {} answered rcode {} for {}", server.ToString(), r.rcode, current);
    }
    std::string target;
    for (const Record& rec : r.answer) {
      if (rec.type == kTypeCname && rec.owner == current) {
        target = rec.text;
      }
    }
    if (target.empty()) {
      return current;
    }
    if (!seen.insert(target).second) {
      return Err("CNAME loop at {}", target);
    }
    current = target;
  }
  return Err("more than {} CNAMEs from {}", kMaxCnameHops, PrintableExcerpt(name, kMaxShown));
}

}  // namespace bulkhead::dns
