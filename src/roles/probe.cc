// The probe role (see probe_role.h): its body, and the parent's side of
// its protocol, which rebuilds probe results from checked messages only.
#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "dns/tlsa.h"
#include "ipc/messages.h"
#include "probe/analyse.h"
#include "roles/compartments.h"
#include "roles/probe_role.h"

namespace bulkhead::roles {
namespace {

using probe::ProbeResult;

// kSilenceMargin is added to the longest request timeout to bound how long
// the parent waits for the role's next message: the engine reports every
// request within its timeout, but resolving a name first (reload-watch) may
// take the resolver's own retries.
constexpr std::chrono::seconds kSilenceMargin{60};

// The certificate bytes one run may deliver: far above what honest chains
// (a few KiB each, one per distinct chain) need.
constexpr size_t kCertBudgetBase = 64 << 20;
constexpr size_t kCertBudgetPerRequest = 16 << 10;

// kStopTimeout bounds how long Stop waits for the role to exit.
constexpr std::chrono::seconds kStopTimeout{5};

// ChainTable remembers, within one run, the chains already described to the
// parent: the engine shares one chain object among the results that served
// the same certificates, so each distinct chain crosses the channel once.
struct ChainEntry {
  std::shared_ptr<const std::vector<crypto::CertInfo>> chain;  // Keeps the key alive.
  uint32_t id = 0;
  std::string error;  // Non-empty: the chain cannot be sent (too large).
};

// DescribeChain sends the kProbeCert frames of `chain` as chain `id`, or
// returns in *out_error why it cannot be sent at all.
Status DescribeChain(ipc::Channel& channel, const std::vector<crypto::CertInfo>& full, uint32_t id,
                     std::string* out_error) {
  std::vector<crypto::CertInfo> chain(
      full.begin(), full.begin() + std::min(full.size(), ipc::kMaxProbeChainLength));
  for (size_t d = 0; d < chain.size(); ++d) {
    if (chain[d].der.size() > ipc::kMaxProbeCertDer) {
      *out_error = fmt::format("the served certificate at depth {} has {} bytes, more than {}", d,
                               chain[d].der.size(), ipc::kMaxProbeCertDer);
      return OkStatus();
    }
    if (chain[d].public_key_der.empty() ||
        chain[d].public_key_der.size() > ipc::kMaxPublicKeyDerB64Len / 4 * 3) {
      *out_error = fmt::format("the served certificate at depth {} has an unusable public key", d);
      return OkStatus();
    }
  }
  dns::ChainLinks links = dns::LinksOf(chain);
  for (size_t d = 0; d < chain.size(); ++d) {
    const crypto::CertInfo& c = chain[d];
    ipc::ProbeCertMsg m;
    m.chain = id;
    m.depth = static_cast<uint32_t>(d);
    m.last = d + 1 == chain.size();
    m.subject = c.subject;
    m.subject_cn = c.subject_cn;
    m.issuer = c.issuer;
    m.names = c.names;
    m.serial_hex = c.serial_hex;
    m.serial_der = c.serial_der;
    m.public_key_der = c.public_key_der;
    m.der = c.der;
    m.not_before = c.not_before;
    m.not_after = c.not_after;
    m.issued_by_next = d < links.issued_by_next.size() && links.issued_by_next[d];
    m.self_signed = d == 0 && links.leaf_self_signed;
    BH_TRY(ipc::Send(channel, m));
  }
  return OkStatus();
}

// SendOutcome sends the result of request `index`, describing its chain
// first if the parent has not seen it yet.
Status SendOutcome(ipc::Channel& channel, std::map<const void*, ChainEntry>& chains, size_t index,
                   const Result<ProbeResult>& result) {
  ipc::ProbeOutcomeMsg m;
  m.index = static_cast<uint32_t>(index);
  std::string error;
  if (!result.ok()) {
    error = result.error().message;
    m.code = result.error().code;
  } else {
    const ProbeResult& r = *result;
    auto it = chains.find(r.chain.get());
    if (it == chains.end()) {
      ChainEntry entry;
      entry.chain = r.chain;
      entry.id = static_cast<uint32_t>(chains.size());
      BH_TRY(DescribeChain(channel, *r.chain, entry.id, &entry.error));
      it = chains.emplace(r.chain.get(), std::move(entry)).first;
    }
    if (!it->second.error.empty()) {
      error = fmt::format("{}: {}", r.address, it->second.error);
    } else {
      m.chain = it->second.id;
      m.address = r.address;
      m.tls_version = r.tls_version;
      m.cipher = r.cipher;
      m.key_type = r.leaf_key.key_type;
      m.key_bits = static_cast<uint32_t>(std::max(0, r.leaf_key.key_bits));
      m.curve = r.leaf_key.curve;
      m.signature_algorithm = r.leaf_key.signature_algorithm;
      m.chain_valid = r.chain_valid;
      m.chain_error = r.chain_error;
      m.hostname_match = r.hostname_match;
      m.http_status = r.http_status ? static_cast<uint32_t>(*r.http_status) : 0;
      for (const auto& [name, value] : r.http_headers) {
        m.http_headers.emplace_back(name, value);
      }
      m.http_error = r.http_error;
      m.elapsed_us = static_cast<uint64_t>(std::max(0.0, r.elapsed_ms) * 1000);
    }
  }
  if (!error.empty() || !result.ok()) {
    m.error = error.empty() ? "probe failed" : error;
  }
  return ipc::Send(channel, m);
}

// ServeRun answers one kProbeRun.
Status ServeRun(ipc::Channel& channel, const ProbeJob& job) {
  std::map<const void*, ChainEntry> chains;
  Status sent = OkStatus();
  probe::EngineOptions options;
  options.concurrency = job.concurrency;
  options.on_done = [&](size_t index, const Result<ProbeResult>& result) {
    if (sent.ok()) {
      sent = SendOutcome(channel, chains, index, result);
    }
  };
  if (job.every_address) {
    for (size_t i = 0; i < job.requests.size(); ++i) {
      options.on_done(i, probe::ProbeTls(job.requests[i]));
    }
    BH_TRY(sent);
    return ipc::Send(channel, ipc::OkMsg{});
  }
  auto all = probe::ProbeAll(job.requests, options);
  if (!all.ok()) {
    return ipc::Send(channel, ipc::ErrorMsg{all.error().message, all.error().code});
  }
  BH_TRY(sent);
  return ipc::Send(channel, ipc::OkMsg{});
}

// Rebuilds a result from a checked outcome and the request it answers.
Result<ProbeResult> ResultFrom(const ipc::ProbeOutcomeMsg& m, const probe::ProbeRequest& req,
                               const std::shared_ptr<const std::vector<crypto::CertInfo>>& chain,
                               const std::shared_ptr<const dns::ChainLinks>& links) {
  ProbeResult r;
  r.address = m.address;
  r.port = req.port;
  r.sni = probe::EffectiveSni(req);
  r.checked_name = probe::EffectiveName(req);
  r.tls_version = m.tls_version;
  r.cipher = m.cipher;
  r.chain = chain;
  r.links = links;
  r.leaf_key.key_type = m.key_type;
  r.leaf_key.key_bits = static_cast<int>(m.key_bits);
  r.leaf_key.curve = m.curve;
  r.leaf_key.signature_algorithm = m.signature_algorithm;
  r.chain_valid = m.chain_valid;
  r.chain_error = m.chain_error;
  r.hostname_match = m.hostname_match;
  if (req.http_headers) {
    if (m.http_status != 0) {
      r.http_status = static_cast<int>(m.http_status);
    }
    for (const auto& [name, value] : m.http_headers) {
      r.http_headers[name] = value;
    }
    r.http_error = m.http_error;
  }
  r.elapsed_ms = static_cast<double>(m.elapsed_us) / 1000.0;
  return r;
}

}  // namespace

sandbox::Policy ProbePolicy(const ProbeJob& job, int ipc_fd) {
  sandbox::Policy policy;
  policy.role = sandbox::Role::kProbe;
  policy.ipc_fd = ipc_fd;
  policy.read_paths = sandbox::NetSystemReadPaths();
  std::set<std::string> bundles;
  std::set<uint16_t> ports;
  for (const probe::ProbeRequest& r : job.requests) {
    if (!r.ca_bundle.empty()) {
      bundles.insert(r.ca_bundle);
    }
    ports.insert(r.port);
    policy.resolve_names = policy.resolve_names || r.address.empty();
  }
  policy.read_paths.insert(policy.read_paths.end(), bundles.begin(), bundles.end());
  policy.connect_ports.assign(ports.begin(), ports.end());
  return policy;
}

int RunProbeRole(ipc::Channel channel, const ProbeJob& job) {
  if (!EnterSandbox(ProbePolicy(job, channel.fd()), job.require_full_sandbox)) {
    return 1;
  }
  while (true) {
    // Idle for as long as the parent likes (reload-watch verifies rarely).
    struct pollfd p = {channel.fd(), POLLIN, 0};
    if (::poll(&p, 1, -1) < 0) {
      continue;
    }
    auto frame = channel.Receive(ipc::kDefaultSendTimeout);
    if (!frame.ok()) {
      // The parent closed the channel (it is done, or it died).
      return channel.broken() ? 1 : 0;
    }
    if (frame->type == ipc::MessageType::kShutdown) {
      return 0;
    }
    Status valid = ipc::DecodeEmpty(*frame, ipc::MessageType::kProbeRun);
    if (!valid.ok()) {
      std::fprintf(stderr, "bulkhead: probe role: %s\n", valid.error().message.c_str());
      return 1;
    }
    Status served = ServeRun(channel, job);
    if (!served.ok()) {
      std::fprintf(stderr, "bulkhead: probe role: %s\n", served.error().message.c_str());
      return 1;
    }
  }
}

ProbeRole::~ProbeRole() { (void)Stop(); }

Result<ProbeRole> ProbeRole::Start(ProbeJob job) {
  BH_ASSIGN(auto pair, ipc::MakeChannelPair("parent", "probe"));
  ipc::Channel& parent_end = pair.first;
  ipc::Channel& probe_end = pair.second;
  BH_ASSIGN(RoleProcess process, RoleProcess::Start("probe", {probe_end.fd()}, [&] {
              return RunProbeRole(std::move(probe_end), job);
            }));
  probe_end.Close();
  return ProbeRole(std::move(parent_end), std::move(process), std::move(job));
}

Result<std::vector<Result<ProbeResult>>> ProbeRole::Run(
    const std::function<void(size_t, const Result<ProbeResult>&)>& on_done) {
  if (stopped_ || process_.pid() <= 0) {
    return Err("the probe role is not running");
  }
  std::chrono::milliseconds longest{0};
  for (const probe::ProbeRequest& r : job_.requests) {
    longest = std::max(longest, r.timeout);
  }
  std::chrono::milliseconds silence = longest + kSilenceMargin;
  // Any failure below leaves the stream out of step: stop the role, so
  // its exit status (e.g. a sandbox violation) is part of the report.
  auto fail = [this](Error e) -> Error {
    Status ended = Stop();
    if (!ended.ok()) {
      return Error{fmt::format("{} ({})", e.message, ended.error().message), e.code};
    }
    return e;
  };
  Status asked = ipc::Send(channel_, ipc::ProbeRunMsg{});
  if (!asked.ok()) {
    return fail(asked.error());
  }
  std::vector<std::optional<Result<ProbeResult>>> results(job_.requests.size());
  size_t done = 0;
  std::vector<std::shared_ptr<const std::vector<crypto::CertInfo>>> chains;
  std::vector<std::shared_ptr<const dns::ChainLinks>> chain_links;
  std::vector<crypto::CertInfo> building;
  dns::ChainLinks building_links;
  size_t cert_bytes = 0;
  const size_t budget = kCertBudgetBase + kCertBudgetPerRequest * job_.requests.size();
  while (true) {
    auto frame = channel_.Receive(silence);
    if (!frame.ok()) {
      return fail(frame.error());
    }
    switch (frame->type) {
      case ipc::MessageType::kProbeCert: {
        auto m = ipc::DecodeProbeCert(*frame);
        if (!m.ok()) {
          return fail(m.error());
        }
        // Each chain is described just before the first outcome using it,
        // so at most one is ahead of the outcomes; with the byte budget this
        // bounds what a compromised role can make the parent hold.
        if (m->chain != chains.size() || m->depth != building.size() ||
            (m->depth == 0 && chains.size() > done)) {
          return fail(Err("probe role: certificate {} of chain {} arrived out of order", m->depth,
                          m->chain));
        }
        cert_bytes += m->der.size() + m->public_key_der.size();
        if (cert_bytes > budget) {
          return fail(Err("probe role: sent more than {} bytes of certificates", budget));
        }
        crypto::CertInfo c;
        c.subject = std::move(m->subject);
        c.subject_cn = std::move(m->subject_cn);
        c.issuer = std::move(m->issuer);
        c.names = std::move(m->names);
        c.serial_hex = std::move(m->serial_hex);
        c.serial_der = std::move(m->serial_der);
        c.public_key_der = std::move(m->public_key_der);
        c.der = std::move(m->der);
        c.not_before = m->not_before;
        c.not_after = m->not_after;
        if (m->depth == 0) {
          building_links.leaf_self_signed = m->self_signed;
        }
        if (!m->last) {
          building_links.issued_by_next.push_back(m->issued_by_next);
        }
        building.push_back(std::move(c));
        if (m->last) {
          chains.push_back(
              std::make_shared<const std::vector<crypto::CertInfo>>(std::move(building)));
          chain_links.push_back(std::make_shared<const dns::ChainLinks>(std::move(building_links)));
          building.clear();
          building_links = dns::ChainLinks();
        }
        break;
      }
      case ipc::MessageType::kProbeOutcome: {
        auto m = ipc::DecodeProbeOutcome(*frame);
        if (!m.ok()) {
          return fail(m.error());
        }
        if (m->index >= results.size() || results[m->index].has_value() || !building.empty()) {
          return fail(Err("probe role: outcome {} is unexpected", m->index));
        }
        const probe::ProbeRequest& req = job_.requests[m->index];
        Result<ProbeResult> result = Err("probe failed");
        if (!m->error.empty()) {
          result = Error{m->error, m->code};
        } else {
          if (m->chain >= chains.size() || !probe::IsIpLiteral(m->address) ||
              (!req.address.empty() && m->address != req.address)) {
            return fail(Err("probe role: outcome {} names an unknown chain or another address",
                            m->index));
          }
          result = ResultFrom(*m, req, chains[m->chain], chain_links[m->chain]);
        }
        if (on_done) {
          on_done(m->index, result);
        }
        results[m->index] = std::move(result);
        ++done;
        break;
      }
      case ipc::MessageType::kOk: {
        Status empty = ipc::DecodeEmpty(*frame, ipc::MessageType::kOk);
        if (!empty.ok() || done != results.size() || !building.empty()) {
          return fail(Err("probe role: finished with {} of {} results", done, results.size()));
        }
        std::vector<Result<ProbeResult>> out;
        out.reserve(results.size());
        for (auto& r : results) {
          out.push_back(std::move(*r));
        }
        return out;
      }
      case ipc::MessageType::kError: {
        auto m = ipc::DecodeError(*frame);
        if (!m.ok()) {
          return fail(m.error());
        }
        // The engine could not start (e.g. an unreadable CA bundle); the
        // role itself is fine and waits for the next run.
        return Error{m->message, m->code};
      }
      default:
        return fail(Err("probe role: unexpected {} message",
                        ipc::MessageTypeName(frame->type)));
    }
  }
}

Status ProbeRole::Stop() {
  if (stopped_ || process_.pid() <= 0) {
    return OkStatus();
  }
  stopped_ = true;
  if (!channel_.broken()) {
    (void)ipc::Send(channel_, ipc::ShutdownMsg{}, std::chrono::milliseconds(1000));
  }
  channel_.Close();
  return process_.Wait(kStopTimeout);
}

Result<std::vector<Result<ProbeResult>>> ProbeInRole(
    ProbeJob job, const std::function<void(size_t, const Result<ProbeResult>&)>& on_done) {
  BH_ASSIGN(ProbeRole role, ProbeRole::Start(std::move(job)));
  auto results = role.Run(on_done);
  Status ended = role.Stop();
  if (!results.ok()) {
    return results;
  }
  if (!ended.ok()) {
    return ended.error();
  }
  return results;
}

}  // namespace bulkhead::roles
