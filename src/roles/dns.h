// The DNS role: asks DNS, from a sandbox that may only talk DNS, whether a
// key's TLSA records are served (DANE rollover, manager/dane.h). It holds
// no key and writes nothing; the parent gets only the checked observation.
//
//   body         started by                 serves
//   RunDnsRole   manager/dane (PlanDaneKey)  one TlsaObservation, then exits
#ifndef BULKHEAD_ROLES_DNS_H_
#define BULKHEAD_ROLES_DNS_H_

#include <string>
#include <vector>

#include "dns/dane_observe.h"
#include "ipc/channel.h"
#include "sandbox/sandbox.h"

namespace bulkhead::roles {

// DnsJob is what the DNS role inherits through fork.
struct DnsJob {
  std::vector<std::string> owners;  // The TLSA owner names asked.
  std::string spki;                 // The key whose record is looked for.
  dns::TlsaLookup lookup;           // Resolver (or discovery) and timeouts.
};

// DnsPolicy is the DNS role's sandbox: the resolver, NSS and TLS
// configuration files, UDP for queries, TCP connect to port 53 (after a
// truncated answer) and to `lookup.resolver`'s port; `parent_fd` is its
// channel to the parent. Never fails.
sandbox::Policy DnsPolicy(const dns::TlsaLookup& lookup, int parent_fd);

// RunDnsRole enters DnsPolicy, observes `job` and sends the parent one
// TlsaObservation or an Error. Returns the process exit status.
int RunDnsRole(ipc::Channel parent, const DnsJob& job, bool require_full);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_DNS_H_
