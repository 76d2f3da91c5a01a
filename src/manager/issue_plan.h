// The plan of one issuance: which roles start, what each may do (its sandbox
// policy or signing policy), what it is given, and as whom it runs. Planning
// is pure: whatever needs the file system or the network (the account,
// the challenge directory, the CA's addresses, a resumable order, a user
// CSR) is read first and handed in as IssueInputs. manager/issue_run.h
// starts the roles of a plan, relays between them and records the outcome.
//
//   role       given (IssuePlan)                      runs as
//   keys       key_request, key_choice                run_as
//   signer     signer (account key path, SignPolicy)  run_as
//   challenge  challenge_policy, challenge_settings   run_as
//   store      store                                  run_as
//   net        net (NetJob; roles::CaNetPolicy)        run_as
//
// Channels: net talks to signer, challenge and store; the parent talks to
// keys (the CSR), to net (the CSR relayed, the report and result) and once
// to the signer (the CSR finalize may carry).
#ifndef BULKHEAD_MANAGER_ISSUE_PLAN_H_
#define BULKHEAD_MANAGER_ISSUE_PLAN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "acme/sign_policy.h"
#include "ledger/gate.h"
#include "manager/challenge_dir.h"
#include "manager/session.h"
#include "manager/settings.h"
#include "roles/compartments.h"
#include "roles/net.h"
#include "sandbox/identity.h"
#include "sandbox/sandbox.h"

namespace bulkhead::manager {

// IssueInputs is what the parent read or resolved before planning.
struct IssueInputs {
  CaConfig ca;                     // Its addresses pinned (PinCaAddresses).
  CertSettings settings;           // This run's settings, run options included.
  std::string account_url;         // account.json's "url".
  std::string account_key_path;    // account.key (read by the signer only).
  std::string thumbprint;          // account.json's "thumbprint", or "".
  ChallengePaths challenge_paths;  // PrepareChallengeDir's answer.
  roles::KeyChoice key_choice = roles::KeyChoice::kFresh;
  std::string resume_url;          // The recorded order to resume, or "".
  std::string csr_pem;             // The user CSR (settings.csr_file), or "".
  int64_t now = 0;
  bool require_full_sandbox = false;
  std::optional<sandbox::RunAs> run_as;  // Set only when running as root.
};

// IssuePlan is everything the runner needs to start the roles of one order.
struct IssuePlan {
  std::string name;                      // The certificate.
  std::optional<sandbox::RunAs> run_as;  // Every role switches to it (when set).
  bool require_full_sandbox = false;

  // keys: makes (or reuses) the key and the CSR; the key stays in pending/.
  roles::KeyRequest key_request;
  roles::KeyChoice key_choice = roles::KeyChoice::kFresh;

  // signer: reads the account key, signs only what signer.policy allows.
  roles::SignerJob signer;

  // challenge: answers the challenges under challenge_policy.
  sandbox::Policy challenge_policy;
  CertSettings challenge_settings;  // The settings, the target's symlinks resolved.
  std::string token_dir;            // Where token files go, "" for no directory.

  // store: writes only the certificate directory.
  roles::StoreJob store;
  CertSettings saved_settings;  // What store.settings holds (root's record).

  // net: the only role that talks to the CA (roles::CaNetPolicy(net.ca)).
  roles::NetJob net;

  // The rate-limit ledger's gate, opened by the parent before any role.
  ledger::Scope ledger_scope;
  std::vector<std::string> ledger_names;
  ledger::GateOptions ledger_options;
};

// PlanIssue plans one order from `in`. Never fails and does no I/O.
IssuePlan PlanIssue(IssueInputs in);

// LedgerGateInputs are what the rate-limit ledger's gate is opened with.
struct LedgerGateInputs {
  ledger::Scope scope;
  std::vector<std::string> names;
  int64_t now = 0;
  ledger::GateOptions options;
};

// LedgerGateFor is the gate of the order `in` plans (the same values as
// PlanIssue's ledger_*): the parent opens it before it reads a resumable
// order or a user CSR. Never fails.
LedgerGateInputs LedgerGateFor(const IssueInputs& in);

// IssueSignPolicy is what the signer may sign for one order of `s`: its
// names, profile and replaces, on the CA's origin, for `account_url`.
acme::SignPolicy IssueSignPolicy(const CaConfig& ca, const std::string& account_url,
                                 const CertSettings& s);

// ChallengeAccessFor is what the challenge role of `s` must be allowed
// (roles::ChallengePolicy): `token_dir` is where an http-01 directory method
// writes; the other methods' targets come from `s`.
roles::ChallengeAccess ChallengeAccessFor(const CertSettings& s, const std::string& token_dir);

// ChallengeConnectPorts returns the TCP ports the challenge role of
// `settings` may connect to, from the same rules PlanIssue grants it: the
// dns-01 ports, or the http-01 pre-flight check's; empty when the role may
// open no connection. Never fails (an unparsable resolver address adds no
// port, as for the role itself).
std::vector<uint16_t> ChallengeConnectPorts(const CertSettings& settings);

}  // namespace bulkhead::manager

#endif  // BULKHEAD_MANAGER_ISSUE_PLAN_H_
