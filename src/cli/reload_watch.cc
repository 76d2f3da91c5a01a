// `bulkhead reload-watch`: signal a server when its certificate changes, then check what it serves.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddReloadWatchCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
