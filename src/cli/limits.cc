// `bulkhead limits`: the rate-limit budget left per registered domain.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddLimitsCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
