// `bulkhead zone compile`: turn dropped dns-01 files into whitelisted zone data.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddZoneCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
