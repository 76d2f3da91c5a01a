// The index of the roles: the processes a run is split into, what each one
// holds, the messages (ipc/messages.h) it accepts, and where its code is.
// Nothing is declared here; each role's body and the proxy that stands for
// it in its peer are in the files named below. The protocol code (acme/)
// never sees a role: it signs through jose::Signer, publishes through
// challenge::Publisher and talks HTTP through acme::HttpClient, so each
// role can run in its own process with its own sandbox
// (docs/COMPARTMENTS.md).
//
//   role       file                 holds                         accepts
//   signer     roles/signer.cc      the account key               SignRequest (what
//                                                                 acme/sign_policy.h allows);
//                                                                 PrepareKeyResponse from
//                                                                 the parent
//   account    roles/account.cc     the account key(s) of the     SignRequest,
//                                   account commands              KeyChangeRequest,
//                                                                 EabRequest; then
//                                                                 AccountCommitRequest
//                                                                 from the parent
//   keys       roles/keys.cc        the certificate's domain key  nothing: sends one
//              (pure part:                                        PrepareKeyResponse
//              roles/keys.h)                                      (CSR, public key)
//   challenge  roles/challenge.cc   the challenge directory, the  PublishForRequest,
//                                   standalone listener or the    RemoveRequest,
//                                   DNS updater                   WaitReadyRequest,
//                                                                 DescribeRequest
//   store      roles/store.cc       the certificate directory     SavePendingOrder,
//                                                                 CommitRequest
//   probe      roles/probe.cc       the TLS connections to the    ProbeRun
//              (roles/probe_role.h) servers it checks
//   net        roles/net.cc         the connection to the CA      (drives the others;
//              (roles/net.h)                                      its jobs come by fork)
//   dns        roles/dns.cc         DNS queries for the DANE      nothing: sends one
//              (roles/dns.h)        rollover                      TlsaObservation
//
// Role bodies and proxies are declared in roles/compartments.h (signer,
// account, keys, challenge, store), roles/net.h, roles/dns.h and
// roles/probe_role.h (probe); forking a role is roles/process.h.
#ifndef BULKHEAD_ROLES_ROLES_H_
#define BULKHEAD_ROLES_ROLES_H_
#endif  // BULKHEAD_ROLES_ROLES_H_
