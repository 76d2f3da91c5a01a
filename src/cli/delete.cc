// bulkhead delete: stop managing a certificate; its files go to an archive
// under the state directory (or, with --purge, are removed).
#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "manager/cert_delete.h"

namespace bulkhead::cli {
namespace {

struct DeleteOptions {
  std::string name;
  bool purge = false;
  bool yes = false;
};

int RunDelete(const GlobalFlags& flags, const DeleteOptions& o) {
  store::CertStore certs = CertStoreFor(flags);
  std::string state_dir = StateDir(flags);
  if (Status known = manager::CheckDeletable(certs, o.name); !known.ok()) {
    return Fail(known.error());
  }
  std::string dir = certs.CertDir(o.name);
  bool ask = !o.yes && StdinIsTerminal();
  // Archiving loses nothing, so a script may do it without --yes; removing
  // for good is never done without someone saying so.
  if (o.purge && !o.yes && !ask) {
    return Fail(ErrCode(ErrorCode::kUsage,
                        "delete --purge removes {} for good; stdin is not a terminal to confirm "
                        "on, so add --yes (or leave out --purge to archive it)",
                        dir));
  }
  auto confirm = [&]() -> Status {
    if (!ask) {
      return OkStatus();
    }
    std::string question =
        o.purge ? fmt::format("Remove {} and all its versions and keys for good?", dir)
                : fmt::format("Stop managing {} and move {} to {}/archive?", o.name, dir,
                              state_dir);
    if (!AskYesNo(question)) {
      return Err("{}: not confirmed; nothing was changed", o.name);
    }
    return OkStatus();
  };
  auto done = manager::DeleteCertificate(
      state_dir, certs, o.name, o.purge ? manager::DeleteMode::kPurge : manager::DeleteMode::kArchive,
      static_cast<int64_t>(std::time(nullptr)), confirm);
  if (!done.ok()) {
    return Fail(done.error().Wrap(o.name));
  }
  if (o.purge) {
    fmt::print("removed {} for good ({}{})\n", o.name, dir,
               done->record_moved ? " and root's settings record" : "");
    fmt::print(
        "A server still configured with {}/live/ keeps serving the copy it has loaded, and its "
        "next reload or restart will fail: the files are gone. Point it at other files first.\n",
        dir);
  } else {
    std::string moved = done->archive_dir + "/certs/" + o.name;
    fmt::print("stopped managing {}: moved {} to {}\n", o.name, dir, moved);
    if (done->record_moved) {
      fmt::print("root's settings record moved to {}/root-settings/{}.json\n", done->archive_dir,
                 o.name);
    }
    fmt::print(
        "A server still configured with {}/live/ keeps serving the copy it has loaded, and its "
        "next reload or restart will fail to find the files: point it at other files first (the "
        "archived copy is in {}/live/).\n",
        dir, moved);
    fmt::print("To manage it again, move {} back to {}/{}; or issue it anew with `bulkhead "
               "issue`.\n",
               moved, certs.root(),
               done->record_moved ? fmt::format(" and the record back to {}/root-settings/",
                                                state_dir)
                                  : "");
  }
  fmt::print("The certificate stays valid at the CA until it expires.\n");
  return kExitOk;
}

}  // namespace

void AddDeleteCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<DeleteOptions>();
  CLI::App* cmd = app.add_subcommand(
      "delete", "stop managing a certificate: move its files to <state>/archive (or remove them)");
  cmd->add_option("--name", o->name, "certificate name")->required();
  cmd->add_flag("--purge", o->purge, "remove the files instead of archiving them");
  cmd->add_flag("--yes", o->yes, "do not ask for confirmation (required for --purge without a terminal)");
  cmd->callback([&cli, o] { cli.run = [&cli, o] { return RunDelete(cli.flags, *o); }; });
}

}  // namespace bulkhead::cli
