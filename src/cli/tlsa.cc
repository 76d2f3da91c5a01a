// `bulkhead tlsa create|verify`: DANE TLSA records.
#include "cli/cli.h"

namespace bulkhead::cli {

void AddTlsaCommand(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace bulkhead::cli
