// `bulkhead serve`: REST API, metrics and dashboard.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddServeCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
