// bulkhead import certbot|lego [DIR]: brings another client's accounts,
// certificates and renewal settings under management. The reading and
// mapping live in migrate/; this file only parses flags and prints.
#include <memory>

#include "cli/cli.h"
#include "migrate/certbot.h"
#include "migrate/lego.h"

namespace bulkhead::cli {
namespace {

struct ImportCliOptions {
  std::string dir;
  std::string webroot;
  std::string standalone;
};

int RunImport(const GlobalFlags& flags, const ImportCliOptions& c, bool lego) {
  migrate::ImportOptions o;
  o.state_dir = StateDir(flags);
  o.source_dir = AbsolutePath(c.dir.empty() ? (lego ? ".lego" : "/etc/letsencrypt") : c.dir);
  o.ca_bundle = AbsolutePath(flags.ca_bundle);
  o.webroot = AbsolutePath(c.webroot);
  o.standalone = c.standalone;
  if (lego) {
    auto ca = CaFromFlags(flags);
    if (!ca.ok()) {
      return Fail(ca.error());
    }
    o.server = ca->directory_url;
    if (!o.webroot.empty() && !o.standalone.empty()) {
      return Fail(ErrCode(ErrorCode::kUsage, "give at most one of --webroot and --standalone"));
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(o.source_dir, ec)) {
    return Fail(ErrCode(ErrorCode::kUsage, "{} is not a directory", o.source_dir));
  }
  migrate::ImportReport report = lego ? migrate::ImportLego(o) : migrate::ImportCertbot(o);
  for (const migrate::ImportReport::Line& line : report.lines) {
    if (line.refused) {
      fmt::print(stderr, "{}\n", line.text);
    } else {
      fmt::print("{}\n", line.text);
    }
  }
  return report.AnyRefused() ? kExitFailure : kExitOk;
}

}  // namespace

void AddImportCommand(CLI::App& app, Cli& cli) {
  CLI::App* cmd = app.add_subcommand(
      "import",
      "bring accounts, certificates and renewal settings of certbot or lego under "
      "management (the source is only read)");
  cmd->require_subcommand(1);

  auto cb = std::make_shared<ImportCliOptions>();
  CLI::App* certbot = cmd->add_subcommand(
      "certbot",
      "import certbot's accounts, every kept certificate version and its renewal "
      "settings");
  certbot->add_option("DIR", cb->dir,
                      "certbot's configuration directory (default "
                      "/etc/letsencrypt)");
  certbot->callback(
      [&cli, cb] { cli.run = [&cli, cb] { return RunImport(cli.flags, *cb, /*lego=*/false); }; });

  auto lg = std::make_shared<ImportCliOptions>();
  CLI::App* lego =
      cmd->add_subcommand("lego",
                          "import lego's accounts of the CA given by --server and its current "
                          "certificates");
  lego->add_option("DIR", lg->dir, "lego's --path directory (default ./.lego)");
  lego->add_option("--webroot", lg->webroot,
                   "renew the imported certificates by writing http-01 tokens here");
  lego->add_option("--standalone", lg->standalone,
                   "renew the imported certificates answering http-01 ourselves on ADDR:PORT");
  lego->callback(
      [&cli, lg] { cli.run = [&cli, lg] { return RunImport(cli.flags, *lg, /*lego=*/true); }; });
}

}  // namespace bulkhead::cli
