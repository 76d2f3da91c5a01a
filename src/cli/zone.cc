// `bulkhead zone compile`: turn dropped dns-01 files into whitelisted zone
// data. Exit status: 0 when every file was accepted; 1 when any file was
// rejected (the accepted records are still printed) unless --keep-going,
// or on an error that prevents compiling (nothing is printed then); 2 on
// usage errors, including an SSHFP map naming a host outside --allow. See
// docs/DNS.md.
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "dns/sshfp.h"
#include "dns/tlsa.h"
#include "dns/zone_compile.h"
#include "util/fs.h"

namespace bulkhead::cli {
namespace {

struct ZoneCompileFlags {
  std::string drop_dir;
  std::vector<std::string> allow;
  uint32_t min_ttl = 0;
  uint32_t max_ttl = 3600;
  std::string tlsa_map;
  uint32_t tlsa_ttl = dns::kDefaultTlsaTtl;
  std::string sshfp_map;
  std::string sshfp_hash = "sha256";
  uint32_t sshfp_ttl = dns::kDefaultSshfpTtl;
  bool keep_going = false;
};

// kMaxMapBytes bounds the operator's map files; they are configuration.
constexpr size_t kMaxMapBytes = 1 << 20;

// SshfpText returns the SSHFP records of --sshfp-map ("" without one), whose
// owners must be --allow names. Fails (kUsage) on a bad --sshfp-hash even
// without a map, so a typo is not silently ignored.
Result<std::string> SshfpText(const ZoneCompileFlags& flags) {
  BH_ASSIGN(std::vector<dns::SshfpHash> hashes, dns::ParseSshfpHashes(flags.sshfp_hash));
  if (flags.sshfp_map.empty()) {
    return std::string();
  }
  BH_ASSIGN(std::set<std::string> allowed, dns::AllowedHostOwners(flags.allow));
  BH_ASSIGN(std::string map_text, ReadFileCapped(flags.sshfp_map, kMaxMapBytes));
  auto entries = dns::ParseSshfpMap(map_text);
  if (!entries.ok()) {
    return entries.error().Wrap(flags.sshfp_map);
  }
  auto records = dns::SshfpMapRecords(*entries, allowed, hashes, flags.sshfp_ttl);
  if (!records.ok()) {
    return records.error().Wrap("--sshfp-map");
  }
  return records;
}

int RunZoneCompile(const ZoneCompileFlags& flags) {
  if (flags.min_ttl > flags.max_ttl) {
    return Fail(ErrCode(ErrorCode::kUsage, "--min-ttl {} is above --max-ttl {}", flags.min_ttl,
                        flags.max_ttl));
  }
  dns::DropPolicy policy;
  auto owners = dns::ChallengeOwners(flags.allow);
  if (!owners.ok()) {
    return Fail(owners.error());
  }
  policy.owners = std::move(owners).value();
  policy.min_ttl = flags.min_ttl;
  policy.max_ttl = flags.max_ttl;

  // Everything that can fail outright happens before the first byte of
  // output, so a failed run prints nothing.
  std::string tlsa_text;
  if (!flags.tlsa_map.empty()) {
    auto map_text = ReadFileCapped(flags.tlsa_map, kMaxMapBytes);
    if (!map_text.ok()) {
      return Fail(map_text.error());
    }
    auto entries = dns::ParseTlsaMap(*map_text);
    if (!entries.ok()) {
      return Fail(entries.error().Wrap(flags.tlsa_map));
    }
    auto records = dns::TlsaMapRecords(*entries, flags.tlsa_ttl);
    if (!records.ok()) {
      return Fail(records.error().Wrap("--tlsa-map"));
    }
    tlsa_text = std::move(records).value();
  }
  auto sshfp_text = SshfpText(flags);
  if (!sshfp_text.ok()) {
    return Fail(sshfp_text.error());
  }
  auto compiled = dns::CompileDropDir(flags.drop_dir, policy);
  if (!compiled.ok()) {
    return Fail(compiled.error());
  }
  for (const dns::DropRejection& r : compiled->rejections) {
    fmt::print(stderr, "bulkhead: rejected {}/{}: {}\n", flags.drop_dir, r.file, r.reason);
  }
  size_t accepted = compiled->records.size();
  std::string text = dns::FormatDropRecords(std::move(compiled->records)) + tlsa_text + *sshfp_text;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return Fail(Err("writing the zone data to standard output failed"));
  }
  if (!compiled->rejections.empty()) {
    fmt::print(stderr, "bulkhead: zone compile: {} file(s) rejected, {} accepted{}\n",
               compiled->rejections.size(), accepted,
               flags.keep_going ? " (--keep-going: exit status 0)" : "");
    return flags.keep_going ? kExitOk : kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void AddZoneCommand(CLI::App& app, Cli& cli) {
  CLI::App* zone = app.add_subcommand("zone", "produce zone data from dns-01 drop files");
  zone->require_subcommand(1);
  auto flags = std::make_shared<ZoneCompileFlags>();
  CLI::App* compile = zone->add_subcommand(
      "compile",
      "print the _acme-challenge TXT records found in a drop directory, whitelisted, sorted, "
      "then the mapped TLSA and SSHFP records "
      "(exit 1 if any file was rejected, unless --keep-going)");
  compile->add_option("--drop-dir", flags->drop_dir, "directory the dns-01 drop method writes")
      ->required();
  compile
      ->add_option("--allow", flags->allow,
                   "a name whose _acme-challenge record may be published (repeatable; "
                   "*.NAME allows the wildcard's challenge)")
      ->required();
  compile->add_option("--min-ttl", flags->min_ttl, "smallest TTL accepted (default 0)");
  compile->add_option("--max-ttl", flags->max_ttl, "largest TTL accepted (default 3600)")
      ->check(CLI::Range(0, 86400));
  compile->add_option("--tlsa-map", flags->tlsa_map,
                      "file of 'CERTFILE NAME PORT' lines: append the 3 1 1 TLSA record of each");
  compile->add_option("--tlsa-ttl", flags->tlsa_ttl, "TTL of the TLSA records (default 3600)");
  compile->add_option("--sshfp-map", flags->sshfp_map,
                      "file of 'KEYFILE NAME' lines: append the SSHFP records of each OpenSSH "
                      "public key; NAME must be given to --allow");
  compile->add_option("--sshfp-hash", flags->sshfp_hash,
                      "SSHFP fingerprint types: sha256 (default), sha1 or both");
  compile->add_option("--sshfp-ttl", flags->sshfp_ttl, "TTL of the SSHFP records (default 3600)");
  compile->add_flag("--keep-going", flags->keep_going,
                    "exit 0 even if files were rejected (they are still reported)");
  compile->callback([&cli, flags] { cli.run = [flags] { return RunZoneCompile(*flags); }; });
}

}  // namespace bulkhead::cli
