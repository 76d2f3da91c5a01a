// Account state: accounts/<ca-host>/<name>/{account.key,account.json}.
// The key is created once (O_EXCL, 0400) and otherwise only read.
#ifndef BULKHEAD_STORE_ACCOUNT_STORE_H_
#define BULKHEAD_STORE_ACCOUNT_STORE_H_

#include <nlohmann/json.hpp>

#include <string>

#include "util/result.h"
#include "util/secret.h"

namespace bulkhead::store {

// CaDirName turns a directory URL into a directory name: its host, plus
// "_<port>" when a port is given ("https://127.0.0.1:14000/dir" ->
// "127.0.0.1_14000"). Fails for URLs without a host or with unsafe characters.
Result<std::string> CaDirName(std::string_view directory_url);

// AccountStore owns one account directory.
class AccountStore {
 public:
  // `dir` is <state-dir>/accounts/<ca-host>/<name>.
  explicit AccountStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string KeyPath() const { return dir_ + "/account.key"; }
  std::string InfoPath() const { return dir_ + "/account.json"; }

  // HasKey reports whether account.key exists.
  bool HasKey() const;

  // ReadKey reads account.key (kNotFound if absent, naming the path and
  // suggesting `bulkhead account register`).
  Result<Secret> ReadKey() const;

  // CreateKey writes a new account.key with O_EXCL, mode 0400, creating the
  // directory (0700). Fails if one exists.
  Status CreateKey(const Secret& pem) const;

  // ReplaceKey atomically replaces account.key (for key rollover), keeping
  // the previous one as account.key.old-<unix time> (0400).
  Status ReplaceKey(const Secret& pem) const;

  // ReplaceKeyKeeping is ReplaceKey for a process that may not make hard
  // links (the sandboxed account role): it writes `old_pem`, the key being
  // replaced, to account.key.old-<unix time> (O_EXCL, 0400) and then
  // atomically replaces account.key with `new_pem`. account.key exists at
  // every moment. Fails, leaving account.key as it was, if the copy cannot
  // be written.
  Status ReplaceKeyKeeping(const Secret& new_pem, const Secret& old_pem) const;

  // LoadInfo / SaveInfo read and atomically write account.json
  // ({"url":..., "contact":[...], "status":..., "server":...}).
  Result<nlohmann::json> LoadInfo() const;
  Status SaveInfo(const nlohmann::json& info) const;

 private:
  std::string dir_;
};

}  // namespace bulkhead::store

#endif  // BULKHEAD_STORE_ACCOUNT_STORE_H_
