// The DNS role: TLSA observation for the DANE rollover, and nothing else.
#include "roles/dns.h"

#include "ipc/messages.h"
#include "roles/compartments.h"

namespace bulkhead::roles {

sandbox::Policy DnsPolicy(const dns::TlsaLookup& lookup, int parent_fd) {
  sandbox::Policy policy;
  policy.role = sandbox::Role::kNet;
  policy.read_paths = sandbox::NetSystemReadPaths();
  policy.udp = true;            // DNS queries.
  policy.connect_ports = {53};  // TCP after a truncated answer.
  if (lookup.resolver) {
    policy.connect_ports.push_back(lookup.resolver->port);
  }
  policy.ipc_fd = parent_fd;
  return policy;
}

int RunDnsRole(ipc::Channel parent, const DnsJob& job, bool require_full) {
  if (!EnterSandbox(DnsPolicy(job.lookup, parent.fd()), require_full)) {
    return 1;
  }
  auto seen = dns::ObservePublished(job.owners, job.spki, job.lookup);
  if (!seen.ok()) {
    ipc::ErrorMsg e{seen.error().message.substr(0, ipc::kMaxTextLen), seen.error().code};
    return ipc::Send(parent, e).ok() ? 0 : 1;
  }
  ipc::TlsaObservationMsg msg{seen->published, seen->ttl,
                              seen->detail.substr(0, ipc::kMaxTextLen)};
  return ipc::Send(parent, msg).ok() ? 0 : 1;
}

}  // namespace bulkhead::roles
