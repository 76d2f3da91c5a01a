// The command word of a command line: finding it before CLI11 parses, and
// what to say when it is not one of ours (a typo, or certbot's name for it).
#include <algorithm>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cli/cli.h"
#include "util/text.h"

namespace bulkhead::cli {
namespace {

// kMaxTypoDistance: "lst", "isue" and "renwe" are typos of a command; a
// word further than this from every command is not worth guessing at.
constexpr size_t kMaxTypoDistance = 2;

// CertbotName maps one of certbot's commands to bulkhead's.
struct CertbotName {
  std::string_view certbot;
  std::string_view bulkhead;
};

// Commands with the same name in both (renew, revoke, delete) need no entry.
constexpr CertbotName kCertbotNames[] = {
    {"certificates", "list"},
    {"certonly", "issue"},
    {"update_account", "account"},
    {"register", "account register"},
    {"show_account", "account show"},
    {"unregister", "account deactivate"},
};

}  // namespace

CLI::App* FindCommand(CLI::App& app, std::string_view name) {
  auto found = app.get_subcommands([name](CLI::App* sub) { return sub->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

int CommandWordIndex(CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      return argc;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      return i;
    }
    if (arg.find('=') != std::string_view::npos) {
      continue;
    }
    const CLI::Option* opt = app.get_option_no_throw(std::string(arg));
    if (opt != nullptr && opt->get_type_size_max() > 0 && opt->get_expected_max() > 0) {
      ++i;  // Its value.
    }
  }
  return argc;
}

std::string UnknownCommandMessage(CLI::App& app, std::string_view word) {
  for (const CertbotName& n : kCertbotNames) {
    if (word == n.certbot) {
      return fmt::format("unknown command '{}'; did you mean '{}'? (certbot's '{}' is "
                         "`bulkhead {}`; `bulkhead --help` lists the commands)",
                         word, n.bulkhead, n.certbot, n.bulkhead);
    }
  }
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  names.push_back("help");
  std::string closest = ClosestWord(word, names, kMaxTypoDistance);
  if (!closest.empty()) {
    return fmt::format("unknown command '{}'; did you mean '{}'?", PrintableExcerpt(word, 40),
                       closest);
  }
  return fmt::format("unknown command '{}'; `bulkhead --help` lists the commands",
                     PrintableExcerpt(word, 40));
}

}  // namespace bulkhead::cli
