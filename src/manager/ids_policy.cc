#include "manager/ids_policy.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "crypto/key.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/nofollow.h"

namespace bulkhead::manager {
namespace {

// MtreeName escapes one path component as mtree(5) wants it (strsvis-style
// octal escapes for anything but graphic ASCII; '\' and '#' too).
std::string MtreeName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (c > ' ' && c < 0x7f && c != '\\' && c != '#' && c != '*' && c != '?' && c != '[') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\{:03o}", c);
    }
  }
  return out;
}

// AideRegex quotes `path` for an aide.conf rule, where the path is a
// regular expression and the config parser treats space, '@' and '\'
// specially. Only characters that need no quoting or whose quoting is a
// one-character bracket expression are accepted; a state directory with
// anything else is refused rather than matched loosely.
Result<std::string> AideRegex(std::string_view path) {
  std::string out;
  for (char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' ||
        c == '_' || c == '-') {
      out += c;
    } else if (c == '.' || c == '+' || c == '~' || c == ',' || c == ':' || c == '=') {
      out += fmt::format("[{}]", c);
    } else {
      return ErrCode(ErrorCode::kUsage,
                     "state directory {}: AIDE rules cannot safely name a path with the "
                     "byte 0x{:02x}; use --ids-policy mtree or another --state-dir",
                     MtreeName(path), static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string UserName(uid_t uid) {
  struct passwd* pw = ::getpwuid(uid);
  return pw != nullptr ? pw->pw_name : "";
}

std::string GroupName(gid_t gid) {
  struct group* gr = ::getgrgid(gid);
  return gr != nullptr ? gr->gr_name : "";
}

// MtreeWalker writes the specification of one tree, one absolute-path
// entry per file (mtree(5) "full path" lines, no /set defaults, so each
// line stands alone and diffs read well).
class MtreeWalker {
 public:
  explicit MtreeWalker(std::string root) : root_(std::move(root)) {}

  // Walk adds the entry `rel` ("." for the root) and, unless `ignore`,
  // everything below it. `hash` adds size and sha256digest to regular
  // files; `optional` marks entries that may vanish.
  Status Walk(const std::string& rel, bool hash, bool optional, bool ignore);

  std::string Take() { return std::move(out_); }

 private:
  Status Entry(const std::string& rel, const struct stat& st, bool hash, bool optional,
               bool ignore);

  std::string root_;
  std::string out_;
  int depth_ = 0;
};

Status MtreeWalker::Entry(const std::string& rel, const struct stat& st, bool hash,
                          bool optional, bool ignore) {
  std::string path = rel == "." ? root_ : root_ + "/" + rel;
  const char* type = S_ISDIR(st.st_mode)   ? "dir"
                     : S_ISREG(st.st_mode) ? "file"
                     : S_ISLNK(st.st_mode) ? "link"
                                           : nullptr;
  if (type == nullptr) {
    return Err("{}: neither a file, a directory nor a symlink; the state directory holds "
               "nothing else", path);
  }
  std::string line = rel == "." ? "." : "./" + rel;
  std::string shown;
  for (size_t start = 0; start <= line.size();) {
    size_t slash = line.find('/', start);
    size_t end = slash == std::string::npos ? line.size() : slash;
    shown += (start == 0 ? "" : "/") + MtreeName(line.substr(start, end - start));
    if (slash == std::string::npos) {
      break;
    }
    start = slash + 1;
  }
  line = fmt::format("{} type={} mode={:04o} uid={} gid={}", shown, type, st.st_mode & 07777,
                     st.st_uid, st.st_gid);
  if (std::string u = UserName(st.st_uid); !u.empty()) {
    line += " uname=" + MtreeName(u);
  }
  if (std::string g = GroupName(st.st_gid); !g.empty()) {
    line += " gname=" + MtreeName(g);
  }
  if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = ::readlink(path.c_str(), target, sizeof(target) - 1);
    if (n < 0) {
      return Err("reading link {}: {}", path, std::strerror(errno));
    }
    line += " link=" + MtreeName(std::string_view(target, static_cast<size_t>(n)));
  }
  if (hash && S_ISREG(st.st_mode)) {
    // Account files are small (a key, a JSON object): 1 MiB is far above.
    BH_ASSIGN(std::string data, ReadFileNoFollow(path, 1 << 20));
    line += fmt::format(" size={} sha256digest={}", data.size(), HexEncode(crypto::Sha256(data)));
  }
  if (optional) {
    line += " optional";
  }
  if (ignore) {
    line += " ignore";
  }
  out_ += line + "\n";
  return OkStatus();
}

Status MtreeWalker::Walk(const std::string& rel, bool hash, bool optional, bool ignore) {
  std::string path = rel == "." ? root_ : root_ + "/" + rel;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    return Err("{}: {}", path, std::strerror(errno));
  }
  BH_TRY(Entry(rel, st, hash, optional, ignore));
  if (!S_ISDIR(st.st_mode) || ignore) {
    return OkStatus();
  }
  if (++depth_ > 16) {
    return Err("{}: nested deeper than the state directory ever is", path);
  }
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    return Err("listing {}: {}", path, std::strerror(errno));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      names.push_back(std::move(n));
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    std::string child = rel == "." ? n : rel + "/" + n;
    if (rel == ".") {
      // The top level decides how each part is watched.
      if (n == "accounts" || n == "root-settings") {
        BH_TRY(Walk(child, /*hash=*/true, /*optional=*/false, /*ignore=*/false));
      } else if (n == "certs") {
        BH_TRY(Walk(child, /*hash=*/false, /*optional=*/false, /*ignore=*/false));
      } else {
        BH_TRY(Walk(child, /*hash=*/false, /*optional=*/true, /*ignore=*/true));
      }
    } else if (rel == "certs") {
      BH_TRY(Walk(child, /*hash=*/false, /*optional=*/false, /*ignore=*/true));
    } else {
      BH_TRY(Walk(child, hash, optional, ignore));
    }
  }
  --depth_;
  return OkStatus();
}

}  // namespace

Result<IdsFormat> ParseIdsFormat(std::string_view name) {
  if (name == "aide") {
    return IdsFormat::kAide;
  }
  if (name == "mtree") {
    return IdsFormat::kMtree;
  }
  return ErrCode(ErrorCode::kUsage, "--ids-policy: expected aide or mtree");
}

Result<std::string> AidePolicy(const std::string& state_dir) {
  if (state_dir.empty() || state_dir[0] != '/') {
    return ErrCode(ErrorCode::kUsage, "state directory {}: an absolute path is needed",
                   state_dir);
  }
  BH_ASSIGN(std::string s, AideRegex(state_dir));
  return fmt::format(
      "# bulkhead state directory {dir}\n"
      "# Account keys and account files never change; certificates may (a renewal\n"
      "# adds a version directory, moves `live` and prunes old versions). Modes,\n"
      "# owners and file types are checked everywhere. A key rollover or a new\n"
      "# account is reported: update the database after one.\n"
      "BulkheadFixed = ftype+p+u+g+s+sha256+sha512\n"
      "BulkheadDirectory = ftype+p+u+g\n"
      "BulkheadRecord = ftype+p+u+g+s+sha256+sha512+ANF\n"
      "BulkheadVersion = ftype+p+u+g+s+sha256+sha512+ANF+ARF\n"
      "BulkheadChanging = ftype+p+u+g+ANF+ARF\n"
      "={s}$ d BulkheadDirectory\n"
      "{s}/accounts$ d BulkheadDirectory\n"
      "{s}/accounts/ d BulkheadDirectory\n"
      "{s}/accounts/ 0 BulkheadFixed\n"
      "{s}/root-settings$ d BulkheadDirectory\n"
      "{s}/root-settings/ 0 BulkheadRecord\n"
      "{s}/certs/[^/]+/[0-9]+/ f BulkheadVersion\n"
      "{s}/ 0 BulkheadChanging\n",
      fmt::arg("dir", state_dir), fmt::arg("s", s));
}

Result<std::string> MtreePolicy(const std::string& state_dir) {
  MtreeWalker walker(state_dir);
  BH_TRY(walker.Walk(".", /*hash=*/false, /*optional=*/false, /*ignore=*/false));
  return fmt::format(
      "# bulkhead state directory {}: check with mtree -p DIR -f THIS_FILE\n"
      "# account files with content digests; certificates may change (ignore)\n{}",
      MtreeName(state_dir), walker.Take());
}

}  // namespace bulkhead::manager
