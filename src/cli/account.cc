// bulkhead account register|show|rollover|deactivate.
#include <unistd.h>

#include <ctime>
#include <memory>

#include "cli/cli.h"
#include "jose/jwk.h"
#include "jose/jws.h"
#include "util/base64url.h"
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

// JwkKeyType names the key type of a public JWK for display.
std::string JwkKeyType(const nlohmann::json& jwk) {
  std::string kty = jwk.value("kty", "");
  if (kty == "EC") {
    return jwk.value("crv", "") == "P-384" ? "ec384" : "ec256";
  }
  if (kty == "RSA") {
    auto n = Base64UrlDecode(jwk.value("n", ""));
    return n.ok() ? fmt::format("rsa{}", n->size() * 8) : "rsa";
  }
  return kty;
}

nlohmann::json AccountJson(const acme::Account& a, const manager::Session& s) {
  return {{"url", a.url},
          {"status", a.status},
          {"contact", a.contact},
          {"server", s.ca.directory_url},
          {"key_type", JwkKeyType(s.signer->Jwk())},
          {"thumbprint", s.signer->Thumbprint()}};
}

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

int RunRegister(const GlobalFlags& flags, const AccountOptions& o) {
  auto contact = Contacts(o.email);
  auto kt = crypto::ParseKeyType(o.key_type);
  auto ca = CaFromFlags(flags);
  if (!contact.ok() || !kt.ok() || !ca.ok()) {
    return Fail(!contact.ok() ? contact.error() : !kt.ok() ? kt.error() : ca.error());
  }
  if (o.eab_kid.empty() != o.eab_hmac_key.empty()) {
    return Fail(ErrCode(ErrorCode::kUsage, "--eab-kid and --eab-hmac-key go together"));
  }
  auto account = manager::AccountStoreFor(StateDir(flags), *ca);
  if (!account.ok()) {
    return Fail(account.error());
  }
  // A new key stays in memory until the CA has answered: an unreachable
  // CA leaves the state directory as it was.
  bool key_existed = account->HasKey();
  Secret new_key_pem;
  Result<std::unique_ptr<roles::Signer>> signer = Err("unset");
  if (key_existed) {
    auto key_pem = account->ReadKey();
    if (!key_pem.ok()) {
      return Fail(key_pem.error());
    }
    signer = roles::NewLocalSigner(*key_pem);
  } else {
    auto key = crypto::PrivateKey::Generate(*kt);
    if (!key.ok()) {
      return Fail(key.error());
    }
    auto pem = key->ToPem();
    if (!pem.ok()) {
      return Fail(pem.error());
    }
    new_key_pem = std::move(pem).value();
    signer = roles::NewSignerFromKey(std::move(key).value());
  }
  if (!signer.ok()) {
    return Fail(signer.error());
  }
  auto session = manager::OpenSessionWithSigner(*ca, *account, std::move(signer).value());
  if (!session.ok()) {
    return Fail(session.error());
  }
  if (!key_existed) {
    // Stored before the CA learns the key, so an account never exists
    // without its key on disk.
    Status st = account->CreateKey(new_key_pem);
    new_key_pem.Wipe();
    if (!st.ok()) {
      return Fail(st.error());
    }
  }
  manager::Session& s = **session;
  const acme::Directory& dir = s.client->directory();

  if (key_existed) {
    auto found = s.client->FindAccount();
    if (found.ok()) {
      acme::Account acct = std::move(found).value();
      if (!contact->empty() && acct.contact != *contact) {
        auto updated = s.client->UpdateAccount(*contact);
        if (!updated.ok()) {
          return Fail(updated.error());
        }
        acct = std::move(updated).value();
      }
      Status st = account->SaveInfo(AccountJson(acct, s));
      if (!st.ok()) {
        return Fail(st.error());
      }
      fmt::print("account exists: {} ({})\n", acct.url, acct.status);
      return kExitOk;
    }
    if (found.error().code != ErrorCode::kNotFound) {
      return Fail(found.error());
    }
  }
  if (!dir.terms_of_service.empty() && !o.agree_tos) {
    return Fail(ErrCode(ErrorCode::kUsage,
                        "the CA requires agreeing to its terms of service at {}; read them and "
                        "add --agree-tos",
                        dir.terms_of_service));
  }
  nlohmann::json eab;
  if (!o.eab_kid.empty()) {
    auto binding = jose::ExternalAccountBinding(s.signer->Jwk(), o.eab_kid, o.eab_hmac_key,
                                                dir.new_account);
    if (!binding.ok()) {
      return Fail(ErrCode(ErrorCode::kUsage, "--eab-hmac-key: {}", binding.error().message));
    }
    eab = std::move(binding).value();
  } else if (dir.external_account_required) {
    return Fail(ErrCode(ErrorCode::kUsage,
                        "the CA requires external account binding: give --eab-kid and "
                        "--eab-hmac-key from your CA account"));
  }
  bool created = false;
  auto acct = s.client->NewAccount(*contact, o.agree_tos, eab, &created);
  if (!acct.ok()) {
    return Fail(acct.error());
  }
  Status st = account->SaveInfo(AccountJson(*acct, s));
  if (!st.ok()) {
    return Fail(st.error());
  }
  fmt::print("{} account {}\n  key: {}\n", created ? "registered" : "found existing", acct->url,
             account->KeyPath());
  return kExitOk;
}

// OpenRegistered opens a session for the registered account of --server.
Result<std::unique_ptr<manager::Session>> OpenRegistered(const GlobalFlags& flags) {
  BH_ASSIGN(manager::CaConfig ca, CaFromFlags(flags));
  return manager::OpenSession(StateDir(flags), ca, /*require_registered=*/true);
}

int RunShow(const GlobalFlags& flags, const AccountOptions& o) {
  auto session = OpenRegistered(flags);
  if (!session.ok()) {
    return Fail(session.error());
  }
  auto acct = (*session)->client->FetchAccount();
  if (!acct.ok()) {
    return Fail(acct.error());
  }
  nlohmann::json j = AccountJson(*acct, **session);
  (void)(*session)->account.SaveInfo(j);
  if (o.json) {
    fmt::print("{}\n", j.dump(2));
    return kExitOk;
  }
  std::string contacts;
  for (const std::string& c : acct->contact) {
    contacts += (contacts.empty() ? "" : ", ") + c;
  }
  fmt::print("account:    {}\nstatus:     {}\ncontact:    {}\nserver:     {}\nkey:        {} ({})\n"
             "thumbprint: {}\n",
             acct->url, acct->status, contacts.empty() ? "-" : contacts, (*session)->ca.directory_url,
             (*session)->account.KeyPath(), j["key_type"].get<std::string>(),
             (*session)->signer->Thumbprint());
  return kExitOk;
}

int RunRollover(const GlobalFlags& flags, const AccountOptions& o, bool key_type_given) {
  auto session = OpenRegistered(flags);
  if (!session.ok()) {
    return Fail(session.error());
  }
  manager::Session& s = **session;
  auto kt = crypto::ParseKeyType(key_type_given ? o.key_type : JwkKeyType(s.signer->Jwk()));
  if (!kt.ok()) {
    return Fail(kt.error());
  }
  auto key = crypto::PrivateKey::Generate(*kt);
  if (!key.ok()) {
    return Fail(key.error());
  }
  auto pem = key->ToPem();
  if (!pem.ok()) {
    return Fail(pem.error());
  }
  // The new key is on disk before the CA switches, so a crash in between
  // never loses the only key the CA accepts.
  std::string next = s.account.dir() + "/account.key.next";
  Status st = CreateFileExclusive(next, pem->view(), 0400);
  if (!st.ok()) {
    return Fail(st.error().Wrap(
        "a previous rollover may have been interrupted; check `bulkhead account show`, then "
        "remove account.key.next"));
  }
  auto new_signer = roles::NewSignerFromKey(std::move(key).value());
  if (!new_signer.ok()) {
    ::unlink(next.c_str());
    return Fail(new_signer.error());
  }
  st = s.client->ChangeKey(**new_signer);
  if (!st.ok()) {
    ::unlink(next.c_str());
    return Fail(st.error());
  }
  st = s.account.ReplaceKey(*pem);
  if (!st.ok()) {
    return Fail(st.error().Wrap(fmt::format("the CA now knows the new key, kept in {}", next)));
  }
  ::unlink(next.c_str());
  fmt::print("rolled over account {} to a new {} key\n  thumbprint: {}\n", s.client->account_url(),
             crypto::KeyTypeName(*kt), (*new_signer)->Thumbprint());
  return kExitOk;
}

int RunDeactivate(const GlobalFlags& flags) {
  auto session = OpenRegistered(flags);
  if (!session.ok()) {
    return Fail(session.error());
  }
  auto acct = (*session)->client->DeactivateAccount();
  if (!acct.ok()) {
    return Fail(acct.error());
  }
  Status st = (*session)->account.SaveInfo(AccountJson(*acct, **session));
  if (!st.ok()) {
    return Fail(st.error());
  }
  fmt::print("deactivated account {}\n", acct->url);
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
  deact->callback([&cli] { cli.run = [&cli] { return RunDeactivate(cli.flags); }; });
}

}  // namespace bulkhead::cli
