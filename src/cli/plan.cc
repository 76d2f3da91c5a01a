// `bulkhead plan`: when each managed certificate will be renewed, and why.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddPlanCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
