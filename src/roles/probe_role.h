// The probe role: the one process that talks TLS to the servers `monitor`,
// `serve`'s checks and `reload-watch --verify` look at, and parses what they
// send. A server under an attacker's control chooses every byte of its
// handshake and certificates, so the parser runs sandboxed (role "probe" in
// docs/COMPARTMENTS.md): it may read the trust store, connect over TCP to
// the ports it probes, use UDP only if it must resolve names, and write and
// signal nothing. It hands back only checked, capped results
// (ipc::ProbeCertMsg, ipc::ProbeOutcomeMsg); the parent never parses a
// remote certificate itself.
#ifndef BULKHEAD_ROLES_PROBE_ROLE_H_
#define BULKHEAD_ROLES_PROBE_ROLE_H_

#include <chrono>
#include <functional>
#include <optional>
#include <vector>

#include "ipc/channel.h"
#include "probe/engine.h"
#include "probe/tls_probe.h"
#include "roles/process.h"
#include "sandbox/sandbox.h"
#include "util/result.h"

namespace bulkhead::roles {

// ProbeJob is what the probe role probes; it is inherited through fork,
// never sent over the channel, so the role cannot be steered to other
// targets by its parent's messages either.
struct ProbeJob {
  std::vector<probe::ProbeRequest> requests;
  int concurrency = probe::kDefaultConcurrency;
  // A request without an address tries its host's addresses in turn until
  // one serves a chain (probe::ProbeTls), as a client would; otherwise it
  // probes the first address only (probe::ProbeAll).
  bool every_address = false;
  bool require_full_sandbox = false;
};

// ProbePolicy is the sandbox of the probe role for `job`: read the system
// trust store and resolver files and the requests' CA bundles; TCP connect
// to the requests' ports only; UDP (resolve_names) only if a request has no
// address; no writes; signals scoped. `ipc_fd` is the role's channel.
sandbox::Policy ProbePolicy(const ProbeJob& job, int ipc_fd);

// RunProbeRole is the role's body: it enters ProbePolicy(job) and then, for
// each kProbeRun, probes every request once and sends one kProbeOutcome per
// request (each new chain described by kProbeCert frames first), then kOk;
// kError if the engine cannot start (e.g. an unreadable CA bundle). Returns
// 0 on kShutdown or when the parent closes the channel.
int RunProbeRole(ipc::Channel channel, const ProbeJob& job);

// ProbeRole is the parent's handle on a running probe role.
class ProbeRole {
 public:
  ProbeRole(ProbeRole&&) noexcept = default;
  ProbeRole& operator=(ProbeRole&&) noexcept = default;
  // The destructor stops the role (Stop) if it still runs.
  ~ProbeRole();

  // Start forks the role for `job`. The child keeps only its channel. Call
  // it before starting threads: the child must be single-threaded to enter
  // its sandbox. Fails with the socketpair or fork error.
  static Result<ProbeRole> Start(ProbeJob job);

  // Run asks the role to probe every request of its job once and returns
  // one result per request, in request order, as probe::ProbeAll would;
  // `on_done` (may be empty) is called as each result arrives. Results are
  // rebuilt from the checked messages: a leaf's `pem`, `issuer_cn` and
  // `aki_keyid` stay empty, ProbeResult::links is set. Fails if the role
  // fails to start the engine, dies, breaks the protocol, or is silent for
  // longer than a request's timeout plus a margin; after such a failure the
  // role is stopped and every later Run fails.
  Result<std::vector<Result<probe::ProbeResult>>> Run(
      const std::function<void(size_t, const Result<probe::ProbeResult>&)>& on_done = nullptr);

  // Stop asks the role to exit and reaps it; returns how it ended.
  Status Stop();

  // channel_fd is the parent's end of the channel (e.g. the ipc_fd of the
  // parent's own sandbox policy).
  int channel_fd() const { return channel_.fd(); }

 private:
  ProbeRole(ipc::Channel channel, RoleProcess process, ProbeJob job)
      : channel_(std::move(channel)), process_(std::move(process)), job_(std::move(job)) {}

  ipc::Channel channel_;
  RoleProcess process_;
  ProbeJob job_;
  bool stopped_ = false;
};

// ProbeInRole starts a probe role for `job`, runs it once and stops it.
// Fails as Start and Run do.
Result<std::vector<Result<probe::ProbeResult>>> ProbeInRole(
    ProbeJob job,
    const std::function<void(size_t, const Result<probe::ProbeResult>&)>& on_done = nullptr);

}  // namespace bulkhead::roles

#endif  // BULKHEAD_ROLES_PROBE_ROLE_H_
