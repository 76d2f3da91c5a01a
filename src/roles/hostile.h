// Hostile actions for tests ("attack your own compartments").
//
// A test build (cmake -DBULKHEAD_TEST_HOOKS=ON; off by default and in every
// release build) lets an integration test make one role behave as if an
// attacker had taken it over: right after the role entered its sandbox (or
// at a later, named point), it performs one real attack and reports on
// stderr whether the attack was blocked. The test then checks that the run
// ended with a clear error and that nothing lasting happened (the live
// certificate, the account key and the account at the CA are unchanged).
//
// The attack is chosen by the environment, inherited by every role:
//
//   BULKHEAD_TEST_HOSTILE=ROLE:ACTION[:ARG]
//
// e.g. `net:mptcp-connect:127.0.0.1:5353` or `net:sign-keychange`. Without
// test hooks the variable is ignored: Requested() always returns nothing.
//
// The role prints exactly one line:
//   bulkhead: hostile ROLE ACTION: blocked: WHY
//   bulkhead: hostile ROLE ACTION: SUCCEEDED: WHAT
// (or is killed by seccomp, whose own message names the system call), and
// then ends with kHostileExit, so the run fails whichever way it went.
#ifndef BULKHEAD_ROLES_HOSTILE_H_
#define BULKHEAD_ROLES_HOSTILE_H_

#include <optional>
#include <string>
#include <string_view>

#include "acme/client.h"
#include "ipc/channel.h"
#include "jose/signer.h"
#include "util/result.h"

namespace bulkhead::roles::hostile {

// kHostileExit is the exit status of a role that performed a hostile action.
inline constexpr int kHostileExit = 97;

// Request is one hostile action asked of one role.
struct Request {
  std::string role;    // "net", "signer", "store", ...
  std::string action;  // e.g. "open-account-key", "sign-keychange".
  std::string arg;     // Whatever follows the second colon ("" if none).
};

// Enabled says whether this build has test hooks at all.
bool Enabled();

// Requested returns the action BULKHEAD_TEST_HOSTILE asks of `role`, or
// nothing (always nothing without test hooks, or for another role).
std::optional<Request> Requested(std::string_view role);

// Finish prints the one report line for `request` (`outcome` ok: the attack
// succeeded, described by `outcome`'s value; an error: it was blocked, for
// the error's reason) and ends the process with kHostileExit.
[[noreturn]] void Finish(const Request& request, const Result<std::string>& outcome);

// RunAfterSandbox performs, in a role that has just entered its sandbox, an
// action that needs nothing but the process itself (files, sockets, other
// processes). Returns false if `request.action` is not such an action (the
// role performs it later, at its own site). Never returns when it is.
// The actions (ARG after the second colon):
//   open-account-key PATH   open PATH for reading
//   write-outside PATH      create PATH
//   read-proc-mem PID       open /proc/PID/mem (PID may be "parent")
//   ptrace PID              PTRACE_SEIZE PID
//   kill PID                send SIGTERM to PID
//   tcp-connect ADDR:PORT   connect a TCP socket (numeric ADDR, [v6] too)
//   mptcp-connect ADDR:PORT the same over MPTCP (IPPROTO_MPTCP)
//   udp-send ADDR:PORT      send one UDP datagram
//   sctp-socket, raw-socket, packet-socket   create such a socket
//   report                  no attack: prints "SUCCEEDED: test hooks are
//                           built in ..." (tests use it to detect hooks)
// EACCES/EPERM count as blocked; any other failure of a connect or send
// means the sandbox let it through and is reported as SUCCEEDED.
bool RunAfterSandbox(const Request& request);

// NetContext is what a (hostile) net role of an order or an account
// command holds: its client (connected, with the account URL set), the
// signer proxy, the store channel (orders only) and the run's names and
// certificate name.
struct NetContext {
  acme::Client* client = nullptr;
  jose::Signer* signer = nullptr;
  ipc::Channel* store = nullptr;
  std::vector<std::string> names;
  std::string cert_name;
};

// RunInNet performs, in the net role, an attack through another role:
//   sign-keychange         roll the account over to a key the attacker made
//   sign-deactivate        deactivate the account
//   sign-contact           change the account's contact
//   sign-revoke:B64DER     revoke the certificate given (base64url DER)
//   sign-foreign-order:N   order a certificate for name N
//   sign-finalize-csr      finalize the run's order with the attacker's CSR
//   sign-inner-jws         have the signer make a JWS without a nonce
//   store-foreign-cert:PEM have the store commit a certificate (PEM, e.g.
//                          self-signed for the run's names with another key)
// A request the signer signs is sent to the CA, so the attack is real.
// Returns false for an action of another site; never returns otherwise.
bool RunInNet(const Request& request, const NetContext& net);

}  // namespace bulkhead::roles::hostile

#endif  // BULKHEAD_ROLES_HOSTILE_H_
