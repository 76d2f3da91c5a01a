// Shared pieces of the command-line front end. Each subcommand lives in its
// own file and registers itself with Add*Command; main.cc holds the table.
#ifndef BULKHEAD_CLI_CLI_H_
#define BULKHEAD_CLI_CLI_H_

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>

#include "config/config.h"
#include "manager/dry_run.h"
#include "manager/manager.h"
#include "manager/session.h"
#include "manager/workflow.h"
#include "sandbox/identity.h"
#include "store/cert_store.h"
#include "util/result.h"

namespace bulkhead::cli {

// Exit statuses (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// GlobalFlags are the options before the subcommand.
struct GlobalFlags {
  std::string state_dir;
  std::string server;
  std::string ca_bundle;
  bool server_given = false;
  bool ca_bundle_given = false;
  int verbose = 0;
  bool require_sandbox = false;
  int http_timeout_seconds = 30;
  std::string user;  // --user: who the roles run as when started as root.
  std::string config_file;  // --config: "" for the default path, if it exists.
  int renew_days = -1;      // The configuration file's renew-days, or -1.
  std::string email;        // The configuration file's contact address, or "".
};

// Cli is what a subcommand's parse callback fills in: the action to run
// once parsing has finished.
struct Cli {
  GlobalFlags flags;
  // The configuration file, for the commands that use one (LoadConfigInto).
  std::optional<config::Config> config;
  std::function<int()> run;
  // Everything after the first "--" on the command line, passed through
  // untouched (main splits it off before parsing: CLI11 would take
  // "-s" there for an option). Only a command that sets
  // `takes_trailing_args` in its callback accepts any.
  std::vector<std::string> trailing_args;
  bool trailing_given = false;
  bool takes_trailing_args = false;
};

// Subcommand registration, one per file.
void AddAccountCommand(CLI::App& app, Cli& cli);
void AddIssueCommand(CLI::App& app, Cli& cli);
void AddRenewCommand(CLI::App& app, Cli& cli);
void AddRevokeCommand(CLI::App& app, Cli& cli);
void AddListCommand(CLI::App& app, Cli& cli);
void AddDoctorCommand(CLI::App& app, Cli& cli);
void AddZoneCommand(CLI::App& app, Cli& cli);
void AddTlsaCommand(CLI::App& app, Cli& cli);
void AddReloadWatchCommand(CLI::App& app, Cli& cli);
void AddMonitorCommand(CLI::App& app, Cli& cli);
void AddServeCommand(CLI::App& app, Cli& cli);
void AddLimitsCommand(CLI::App& app, Cli& cli);
void AddPlanCommand(CLI::App& app, Cli& cli);
void AddRollbackCommand(CLI::App& app, Cli& cli);
void AddConfigCommand(CLI::App& app, Cli& cli);
void AddDrillCommand(CLI::App& app, Cli& cli);

// DryRunManaged dry-runs (manager::DryRun) every managed certificate, or
// only `only`, printing one line per certificate and a summary; returns 1
// if any failed. `drill` and `renew --dry-run` share it.
int DryRunManaged(const GlobalFlags& flags, const std::string& only);
void AddImportCommand(CLI::App& app, Cli& cli);

// LoadConfigInto reads the configuration file (--config, else the default
// path if a file is there) into cli.config and fills in the global flags
// the command line left unset: state directory, CA, CA bundle, user, and
// renew-days. Fails (kUsage) as config::LoadConfig does; an explicit
// --config that does not exist is an error too.
Status LoadConfigInto(Cli& cli);

// AddCompletionCommand adds the hidden `completion bash|zsh`, which prints a
// shell completion script made from every registered subcommand and option.
void AddCompletionCommand(CLI::App& app, Cli& cli);

// PrintDryRun prints a dry run's outcome for `name`: what was issued from
// where and what the check found, and returns the exit status (1 when the
// run failed or the check found a problem).
int PrintDryRun(const Result<manager::DryRunResult>& done, const std::string& name);
void AddDeleteCommand(CLI::App& app, Cli& cli);

// StateDir returns --state-dir, or /var/lib/bulkhead as root, else
// $XDG_STATE_HOME/bulkhead (default ~/.local/state/bulkhead).
std::string StateDir(const GlobalFlags& flags);

// CaFromFlags resolves --server and --ca-bundle (made absolute).
Result<manager::CaConfig> CaFromFlags(const GlobalFlags& flags);

// AbsolutePath makes `path` absolute against the working directory, since
// settings are replayed later from anywhere.
std::string AbsolutePath(const std::string& path);

// RunContextFor is the workflows' context for this command line: the state
// directory, `certs` (which must outlive it), the time now, the HTTP
// timeout, --require-sandbox and the roles' user `run_as` (RolesRunAs).
manager::RunContext RunContextFor(const GlobalFlags& flags, const store::CertStore& certs,
                                  const std::optional<sandbox::RunAs>& run_as);

// PrintTlsaRecords prints the TLSA records a DANE key change left to
// publish (none for other certificates), or the error that kept them from
// being computed. Returns an exit status.
int PrintTlsaRecords(const manager::WorkflowResult& done);

// RolesRunAs resolves --user (see sandbox::DefaultRunAs): the user the roles
// switch to, or none. With --require-sandbox, running as root with no such
// user is a kUsage error that says how to create the `bulkhead` user.
Result<std::optional<sandbox::RunAs>> RolesRunAs(const GlobalFlags& flags);

// InspectAllManaged inspects every certificate under <state-dir>/certs at
// `now` and returns one JSON object per certificate built by `describe`
// (name, state); a certificate that cannot be inspected is reported on
// stderr and turns `*out_status` into a failure. Used by list and plan.
nlohmann::json InspectAllManaged(
    const store::CertStore& certs, int64_t now,
    const std::function<nlohmann::json(const std::string&, const manager::CertState&)>& describe,
    int* out_status);

// PrintedJsonOrNone prints `out` as JSON when `as_json`, or the "no managed
// certificates" line when `out` is empty, and says whether it printed: the
// common head of list and plan, whose tables then differ.
bool PrintedJsonOrNone(const store::CertStore& certs, const nlohmann::json& out, bool as_json);

// CertStoreFor returns the store under <state-dir>/certs.
store::CertStore CertStoreFor(const GlobalFlags& flags);

// CheckCommandWord looks at the command word of argv (of `argc`: the first
// argument that is neither an option of `app` nor an option's value) before
// CLI11 parses. A word that is no command of `app` is a kUsage error naming
// the nearest command by edit distance ("did you mean 'list'?") or
// bulkhead's command for one of certbot's names. For `help [COMMAND]` it
// fills `*out_help_args` with the command line that asks CLI11 for that
// help (the global options given, COMMAND, --help); otherwise it leaves it
// empty.
Status CheckCommandWord(CLI::App& app, int argc, char** argv, std::vector<char*>* out_help_args);

// StdinIsTerminal reports whether stdin is a terminal, i.e. whether someone
// is there to answer a question.
bool StdinIsTerminal();

// AskYesNo prints `question` followed by " [y/N] " on stderr and reads one
// line from stdin: true only for "y" or "yes" (any case); end of input, a
// read error or any other answer is no.
bool AskYesNo(std::string_view question);

// Fail prints "bulkhead: error: <message>" and returns the exit status for
// the error (2 for usage errors, else 1).
int Fail(const Error& error);

}  // namespace bulkhead::cli

#endif  // BULKHEAD_CLI_CLI_H_
