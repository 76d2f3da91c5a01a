// bulkhead account register|show|rollover|deactivate.
#include <memory>
#include <optional>

#include <openssl/crypto.h>

#include "cli/cli.h"
#include "manager/account_ops.h"
#include "util/fs.h"
#include "util/log.h"

namespace bulkhead::cli {
namespace {

struct AccountOptions {
  std::string email;
  bool agree_tos = false;
  std::string key_type = "ec256";
  std::string eab_kid;
  std::string eab_hmac_key;
  bool json = false;
};

Result<std::vector<std::string>> Contacts(const std::string& email) {
  if (email.empty()) {
    return std::vector<std::string>{};
  }
  if (email.find('@') == std::string::npos ||
      email.find_first_of(" ,;:<>\"'\t\r\n") != std::string::npos || email.size() > 254) {
    return ErrCode(ErrorCode::kUsage, "--email \"{}\" is not a plain e-mail address",
                   email.substr(0, 100));
  }
  return std::vector<std::string>{"mailto:" + email};
}

// Run runs `request` in compartments (manager/account_ops.h): the account
// key never enters this process, and what the CA said arrives checked.
Result<manager::AccountReport> Run(const GlobalFlags& flags, manager::AccountRequest request) {
  BH_ASSIGN(manager::CaConfig ca, CaFromFlags(flags));
  BH_ASSIGN(std::optional<sandbox::RunAs> run_as, RolesRunAs(flags));
  return manager::RunAccountCommand(StateDir(flags), ca, std::move(request),
                                    flags.require_sandbox, run_as);
}

// AccountJson is what `account show --json` prints (and account.json holds).
nlohmann::json AccountJson(const manager::AccountReport& r, const std::string& server) {
  return {{"url", r.account.url},
          {"status", r.account.status},
          {"contact", r.account.contact},
          {"server", server},
          {"key_type", crypto::KeyTypeName(r.key.key_type)},
          {"thumbprint", r.key.thumbprint}};
}

int RunRegister(const GlobalFlags& flags, AccountOptions& o) {
  manager::AccountRequest request;
  request.command = manager::AccountCommand::kRegister;
  // The EAB key goes to the account role only; wipe this copy.
  bool eab_key_given = !o.eab_hmac_key.empty();
  request.eab_hmac_key = Secret(o.eab_hmac_key);
  OPENSSL_cleanse(o.eab_hmac_key.data(), o.eab_hmac_key.size());
  o.eab_hmac_key.clear();
  // --email, else the configuration file's address.
  auto contact = Contacts(o.email.empty() ? flags.email : o.email);
  auto kt = crypto::ParseKeyType(o.key_type);
  auto ca = CaFromFlags(flags);
  if (!contact.ok() || !kt.ok() || !ca.ok()) {
    return Fail(!contact.ok() ? contact.error() : !kt.ok() ? kt.error() : ca.error());
  }
  if (o.eab_kid.empty() == eab_key_given) {
    return Fail(ErrCode(ErrorCode::kUsage, "--eab-kid and --eab-hmac-key go together"));
  }
  request.contact = std::move(contact).value();
  request.agree_tos = o.agree_tos;
  request.key_type = *kt;
  request.eab_kid = o.eab_kid;
  auto r = Run(flags, std::move(request));
  if (!r.ok()) {
    return Fail(r.error());
  }
  if (!r->key.warning.empty()) {
    return Fail(Err("{}", r->key.warning));
  }
  if (r->account.outcome == ipc::AccountOutcome::kExists) {
    fmt::print("account exists: {} ({})\n", r->account.url, r->account.status);
    return kExitOk;
  }
  fmt::print("{} account {}\n  key: {}\n",
             r->account.outcome == ipc::AccountOutcome::kCreated ? "registered" : "found existing",
             r->account.url, r->key_path);
  return kExitOk;
}

int RunShow(const GlobalFlags& flags, const AccountOptions& o) {
  manager::AccountRequest request;
  request.command = manager::AccountCommand::kShow;
  auto r = Run(flags, std::move(request));
  if (!r.ok()) {
    return Fail(r.error());
  }
  // A failure to refresh account.json does not hide what the CA said.
  std::string server = CaFromFlags(flags)->directory_url;
  nlohmann::json j = AccountJson(*r, server);
  if (o.json) {
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  std::string contacts;
  for (const std::string& c : r->account.contact) {
    contacts += (contacts.empty() ? "" : ", ") + c;
  }
  fmt::print("account:    {}\nstatus:     {}\ncontact:    {}\nserver:     {}\nkey:        {} ({})\n"
             "thumbprint: {}\n",
             r->account.url, r->account.status, contacts.empty() ? "-" : contacts, server,
             r->key_path, crypto::KeyTypeName(r->key.key_type), r->key.thumbprint);
  return kExitOk;
}

int RunRollover(const GlobalFlags& flags, const AccountOptions& o, bool key_type_given) {
  manager::AccountRequest request;
  request.command = manager::AccountCommand::kRollover;
  if (key_type_given) {
    auto kt = crypto::ParseKeyType(o.key_type);
    if (!kt.ok()) {
      return Fail(kt.error());
    }
    request.new_key_type = *kt;
  }
  auto r = Run(flags, std::move(request));
  if (!r.ok()) {
    return Fail(r.error());
  }
  fmt::print("rolled over account {} to a new {} key\n  thumbprint: {}\n", r->account.url,
             crypto::KeyTypeName(r->key.key_type), r->key.thumbprint);
  return kExitOk;
}

int RunDeactivate(const GlobalFlags& flags, bool yes) {
  // The CA refuses a deactivated account for good: never without a yes.
  if (!yes) {
    if (!StdinIsTerminal()) {
      return Fail(ErrCode(ErrorCode::kUsage,
                          "account deactivate cannot be undone; stdin is not a terminal to "
                          "confirm on, so add --yes"));
    }
    if (!AskYesNo("Deactivate the account for good? The CA will refuse it from now on, and "
                  "this cannot be undone.")) {
      return Fail(Err("not confirmed; the account is unchanged"));
    }
  }
  manager::AccountRequest request;
  request.command = manager::AccountCommand::kDeactivate;
  auto r = Run(flags, std::move(request));
  if (!r.ok()) {
    return Fail(r.error());
  }
  if (!r->key.warning.empty()) {
    return Fail(Err("{}", r->key.warning));
  }
  fmt::print("deactivated account {}\n", r->account.url);
  // Its key stays refused too: a new account needs a new key, so the old
  // directory is moved aside rather than reused by `account register`.
  std::string dir = DirName(r->key_path);
  fmt::print(
      "The CA refuses this account and its key from now on. Before the next issue or renew, "
      "move its directory aside and register a new one:\n  mv {} {}.deactivated\n  bulkhead "
      "account register --agree-tos   (with the same --server and --state-dir)\nCertificates "
      "already issued stay valid; `bulkhead revoke --name NAME --with-cert-key` revokes one "
      "without the account.\n",
      dir, dir);
  return kExitOk;
}

}  // namespace

void AddAccountCommand(CLI::App& app, Cli& cli) {
  auto o = std::make_shared<AccountOptions>();
  CLI::App* account = app.add_subcommand("account", "manage the ACME account");
  account->require_subcommand(1);

  CLI::App* reg = account->add_subcommand("register", "create (or find) the account");
  reg->add_option("--email", o->email, "contact address");
  reg->add_flag("--agree-tos", o->agree_tos, "agree to the CA's terms of service");
  reg->add_option("--key-type", o->key_type, "ec256 (default), ec384, rsa2048, rsa3072, rsa4096");
  reg->add_option("--eab-kid", o->eab_kid, "external account binding key id");
  reg->add_option("--eab-hmac-key", o->eab_hmac_key, "external account binding key (base64url)");
  reg->callback([&cli, o] { cli.run = [&cli, o] { return RunRegister(cli.flags, *o); }; });

  CLI::App* show = account->add_subcommand("show", "show the account as the CA has it");
  show->add_flag("--json", o->json, "machine-readable output");
  show->callback([&cli, o] { cli.run = [&cli, o] { return RunShow(cli.flags, *o); }; });

  CLI::App* roll = account->add_subcommand("rollover", "replace the account key (keyChange)");
  auto* kt = roll->add_option("--key-type", o->key_type, "type of the new key (default: same)");
  roll->callback([&cli, o, kt] {
    bool given = kt->count() > 0;
    cli.run = [&cli, o, given] { return RunRollover(cli.flags, *o, given); };
  });

  CLI::App* deact = account->add_subcommand("deactivate", "deactivate the account for good");
  auto yes = std::make_shared<bool>(false);
  deact->add_flag("--yes", *yes, "do not ask (required when stdin is not a terminal)");
  deact->callback(
      [&cli, yes] { cli.run = [&cli, yes] { return RunDeactivate(cli.flags, *yes); }; });
}

}  // namespace bulkhead::cli
