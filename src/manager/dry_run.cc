#include "manager/dry_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <random>

#include "acme/types.h"
#include "manager/session.h"
#include "manager/versions.h"
#include "util/fs.h"

namespace bulkhead::manager {
namespace {

// Scratch is a store directory removed when it goes out of scope.
class Scratch {
 public:
  explicit Scratch(std::string dir) : dir_(std::move(dir)) {}
  ~Scratch() { (void)RemoveTree(dir_); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

std::string RandomSuffix() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

// ChainProblems checks that each certificate of `chain` is signed by the
// next one (the last one's issuer is the CA's root, not in the chain).
std::vector<std::string> ChainProblems(const std::vector<crypto::CertInfo>& chain) {
  std::vector<std::string> out;
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    Result<bool> ok = crypto::VerifyIssuedBy(chain[i], chain[i + 1]);
    if (!ok.ok() || !*ok) {
      out.push_back(fmt::format("fullchain.pem: certificate {} ({}) is not signed by the next "
                                "one ({})",
                                i + 1, chain[i].subject, chain[i + 1].subject));
    }
  }
  return out;
}

}  // namespace

std::string DryRunServer(const std::string& server) {
  return server == kLetsEncrypt ? kLetsEncryptStaging : server;
}

Result<DryRunResult> DryRun(const RunContext& ctx, const CertSettings& settings,
                            Reporter& reporter) {
  CertSettings s = settings;
  s.server = DryRunServer(settings.server);
  s.run.dry_run = true;
  s.run.replaces.clear();  // Never tell the CA that the live certificate is replaced.
  s.run.allow_dropped_names = true;
  CaConfig ca{s.server, s.ca_bundle, ctx.http_timeout_ms};
  BH_ASSIGN(store::AccountStore account, AccountStoreFor(ctx.state_dir, ca, s.account));
  if (!account.HasKey()) {
    return ErrCode(ErrorCode::kUsage,
                   "a dry run orders from {}, where there is no account yet; register one "
                   "first: bulkhead --server {} account register --agree-tos",
                   s.server, s.server == kLetsEncryptStaging ? "letsencrypt-staging" : s.server);
  }
  // Inside the state directory: PrepareForUser lets the roles' user pass
  // through it as through certs/.
  Scratch scratch(fmt::format("{}/dry-run-{}", ctx.state_dir, RandomSuffix()));
  BH_TRY(MakeDirs(scratch.dir(), 0700));
  store::CertStore certs(scratch.dir());
  RunContext scratch_ctx = ctx;
  scratch_ctx.certs = &certs;
  if (s.server != settings.server) {
    reporter.Info(s.name, fmt::format("dry run: ordering from {} instead of {}", s.server,
                                      settings.server));
  }
  BH_ASSIGN(WorkflowResult done, Issue(scratch_ctx, s, /*force=*/true, reporter));
  DryRunResult out;
  out.server = s.server;
  out.leaf = done.outcome.leaf;
  BH_ASSIGN(store::LiveSet live, certs.LoadLive(s.name));
  // The files must be whole. The validity period is left out: a CA may
  // date a fresh certificate a moment after ctx.now (the run's start), or
  // ahead by its clock's skew, and neither makes the renewal unsafe.
  out.problems = LiveDamage(certs, s.name, live.version, ctx.now);
  if (Result<std::vector<crypto::CertInfo>> chain = crypto::ParsePemChain(live.fullchain_pem);
      chain.ok()) {
    std::vector<std::string> chain_problems = ChainProblems(*chain);
    out.problems.insert(out.problems.end(), chain_problems.begin(), chain_problems.end());
    if (acme::CanonicalNameSet(chain->front().names) != acme::CanonicalNameSet(s.names)) {
      out.problems.push_back(fmt::format("the certificate names {}, the settings {}",
                                         fmt::join(chain->front().names, ", "),
                                         fmt::join(s.names, ", ")));
    }
    out.leaf = chain->front();
  }
  return out;
}

}  // namespace bulkhead::manager
