// `bulkhead monitor check|add|remove|list|run`: what endpoints actually serve.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddMonitorCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
