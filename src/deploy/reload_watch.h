// `bulkhead reload-watch`: a small process that watches certificate files,
// tells the server to reload when they are newer than what it loaded, and
// checks that the server then serves them. It never restarts the server and
// needs no write access except its metrics file.
#ifndef BULKHEAD_DEPLOY_RELOAD_WATCH_H_
#define BULKHEAD_DEPLOY_RELOAD_WATCH_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "deploy/pidfile.h"
#include "deploy/trigger.h"
#include "deploy/verify.h"
#include "util/result.h"

namespace bulkhead::deploy {

// NewestFileTime returns the newest modification time (Unix ns) among
// `paths`, their targets when they are symlinks, and their parent
// directories when those are symlinks (the store's `live` link). Paths that
// cannot be stat()ed are skipped; -1 if none could.
int64_t NewestFileTime(const std::vector<std::string>& paths);

// ServerLoadedTime returns when the server last loaded its files as far as
// the system tells: the later of the pid file's mtime and the start time of
// the process it names; -1 if neither is known.
int64_t ServerLoadedTime(const std::string& pidfile);

// ReadablePathsFor returns the directories reload-watch must be able to read
// for `watched` files: each file's directory, or the directory above it when
// that directory is a symlink (a renewal points `live` at a new directory,
// which a rule on the old one would not cover).
std::vector<std::string> ReadablePathsFor(const std::vector<std::string>& watched);

// WatchOptions is a parsed reload-watch command line.
struct WatchOptions {
  std::string pidfile;
  ExpectedProcess expected;
  std::vector<std::string> watch;
  int signal = 0;                      // Used when exec_argv is empty.
  std::vector<std::string> exec_argv;  // --exec PROG ARG...
  std::chrono::milliseconds exec_timeout{30000};
  TriggerConfig trigger;
  std::chrono::milliseconds recheck{60000};  // Re-check without events.
  bool once = false;
  // --verify.
  std::optional<HostPort> verify;
  std::string sni;
  std::string starttls = "none";
  std::string cert;  // On-disk certificate to compare; default: watch[0].
  std::chrono::milliseconds verify_wait{30000};
  std::string ca_bundle;
  std::string metrics_file;
  // The channel to the probe role that performs --verify's TLS handshakes
  // (started by the caller before the watcher's sandbox), or -1. The
  // watcher itself opens no socket and parses nothing a server sends.
  int probe_channel_fd = -1;
  bool sandbox = true;
  bool require_sandbox = false;
};

// RunReloadWatch runs the watcher until SIGINT/SIGTERM (or once with
// `once`). `probe` fetches the served leaf for --verify (unused without
// it); it is called only after the sandbox is entered, and should ask a
// probe role (options.probe_channel_fd), since the watcher's sandbox allows
// no connections: the process that may signal the server must not be the
// one that parses what a server sends. It returns an error
// for a setup failure; in --once mode also when the action or the
// verification failed.
Status RunReloadWatch(const WatchOptions& options, const Clock& clock, const ProbeLeafFn& probe);

}  // namespace bulkhead::deploy

#endif  // BULKHEAD_DEPLOY_RELOAD_WATCH_H_
