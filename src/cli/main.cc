// bulkhead: the command-line front end. Parses flags, then runs exactly one
// subcommand. All work happens in the library; see docs/ARCHITECTURE.md.
#include <CLI/CLI.hpp>

#include <sys/prctl.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cli/cli.h"
#include "roles/hostile.h"
#include "util/interrupt.h"
#include "util/log.h"

int main(int argc, char** argv) {
  // Before anything is read: no other process of the same user may read
  // this one's memory (/proc/PID/mem) or attach a debugger to it; the roles
  // forked from it inherit the setting (and set it again themselves).
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  using bulkhead::cli::Cli;
  CLI::App app{"bulkhead: get and keep TLS certificates from ACME CAs, compartmented"};
  app.require_subcommand(1);
  // Global options may also follow the subcommand ("bulkhead issue ... -v").
  app.fallthrough();
  Cli cli;
  app.add_option("--state-dir", cli.flags.state_dir,
                 "state directory (default /var/lib/bulkhead as root, else "
                 "$XDG_STATE_HOME/bulkhead)")
      ->envname("BULKHEAD_STATE_DIR");
  auto* server = app.add_option("--server", cli.flags.server,
                                "ACME directory URL, letsencrypt or letsencrypt-staging "
                                "(default letsencrypt)")
                     ->envname("BULKHEAD_SERVER");
  auto* bundle = app.add_option("--ca-bundle", cli.flags.ca_bundle,
                                "PEM file of roots to trust for the CA's HTTPS (private CAs)")
                     ->envname("BULKHEAD_CA_BUNDLE");
  app.add_flag("-v,--verbose", cli.flags.verbose, "more output on stderr (repeat for debug)");
  app.add_flag("--require-sandbox", cli.flags.require_sandbox,
               "fail instead of warning when the kernel cannot enforce every sandbox layer")
      ->envname("BULKHEAD_REQUIRE_SANDBOX");
  app.add_option("--http-timeout", cli.flags.http_timeout_seconds,
                 "seconds allowed for each request to the CA (default 30)")
      ->envname("BULKHEAD_HTTP_TIMEOUT")
      ->check(CLI::Range(1, 600));
  app.add_option("--user", cli.flags.user,
                 "USER[:GROUP] the roles of issue/renew switch to when run as root "
                 "(default: the user 'bulkhead' if it exists)")
      ->envname("BULKHEAD_USER");
  app.add_option("--config", cli.flags.config_file,
                 "configuration file (default /etc/bulkhead/bulkhead.toml as root, else "
                 "$XDG_CONFIG_HOME/bulkhead/bulkhead.toml, when it exists)")
      ->envname("BULKHEAD_CONFIG");

  // A build with test hooks says so, so that nobody deploys one unawares
  // and the tests can tell (src/roles/hostile.h).
  app.set_version_flag("--version", bulkhead::roles::hostile::Enabled()
                                        ? "bulkhead " BULKHEAD_VERSION " (test hooks)"
                                        : "bulkhead " BULKHEAD_VERSION);

  // The command table: one file per subcommand.
  bulkhead::cli::AddAccountCommand(app, cli);
  bulkhead::cli::AddIssueCommand(app, cli);
  bulkhead::cli::AddRenewCommand(app, cli);
  bulkhead::cli::AddRevokeCommand(app, cli);
  bulkhead::cli::AddListCommand(app, cli);
  bulkhead::cli::AddRollbackCommand(app, cli);
  bulkhead::cli::AddDeleteCommand(app, cli);
  bulkhead::cli::AddDoctorCommand(app, cli);
  bulkhead::cli::AddZoneCommand(app, cli);
  bulkhead::cli::AddTlsaCommand(app, cli);
  bulkhead::cli::AddReloadWatchCommand(app, cli);
  bulkhead::cli::AddMonitorCommand(app, cli);
  bulkhead::cli::AddServeCommand(app, cli);
  bulkhead::cli::AddLimitsCommand(app, cli);
  bulkhead::cli::AddPlanCommand(app, cli);
  bulkhead::cli::AddConfigCommand(app, cli);
  bulkhead::cli::AddDrillCommand(app, cli);
  bulkhead::cli::AddImportCommand(app, cli);
  // Hidden: prints completion scripts made from this table.
  bulkhead::cli::AddCompletionCommand(app, cli);

  // "--" ends bulkhead's own arguments; what follows belongs to the program
  // a command runs (reload-watch --exec PROG -- -s reload).
  int own_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own_argc = i;
      cli.trailing_given = true;
      cli.trailing_args.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  // Before CLI11, which would only say that a command is required: a word
  // that is no command gets a suggestion, and `help [COMMAND]` is --help.
  std::vector<char*> help_args;
  if (bulkhead::Status word = bulkhead::cli::CheckCommandWord(app, own_argc, argv, &help_args);
      !word.ok()) {
    return bulkhead::cli::Fail(word.error());
  }
  try {
    if (!help_args.empty()) {
      app.parse(static_cast<int>(help_args.size()), help_args.data());
    }
    app.parse(own_argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return bulkhead::cli::kExitUsage;
  }
  if (cli.trailing_given && !cli.takes_trailing_args) {
    bulkhead::LogError("arguments after -- are only for reload-watch --exec");
    return bulkhead::cli::kExitUsage;
  }
  cli.flags.server_given = server->count() > 0 || !cli.flags.server.empty();
  cli.flags.ca_bundle_given = bundle->count() > 0 || !cli.flags.ca_bundle.empty();
  if (cli.flags.verbose >= 2) {
    bulkhead::SetLogLevel(bulkhead::LogLevel::kDebug);
  } else if (cli.flags.verbose == 1) {
    bulkhead::SetLogLevel(bulkhead::LogLevel::kInfo);
  }
  bulkhead::InstallInterruptHandlers();
  // A peer closing a socket must surface as an error from the write, not
  // kill the process (libcurl is told not to touch signals).
  std::signal(SIGPIPE, SIG_IGN);
  if (!cli.run) {
    std::fputs(app.help().c_str(), stderr);
    return bulkhead::cli::kExitUsage;
  }
  // The commands that act on the state read the configuration file: its
  // state directory, CA and user apply to them as defaults.
  static constexpr std::string_view kConfigured[] = {
      "issue", "renew", "revoke", "list", "plan", "limits", "doctor", "account",
      "rollback", "config", "delete", "drill", "import"};
  std::string_view command = app.get_subcommands().front()->get_name();
  if (std::find(std::begin(kConfigured), std::end(kConfigured), command) !=
      std::end(kConfigured)) {
    bulkhead::Status loaded = bulkhead::cli::LoadConfigInto(cli);
    if (!loaded.ok()) {
      bulkhead::LogError("{}", loaded.error().message);
      return bulkhead::cli::kExitUsage;
    }
  }
  return cli.run();
}
