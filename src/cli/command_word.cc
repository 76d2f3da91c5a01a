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

// FindCommand returns the subcommand of `app` named `name`, or nullptr.
CLI::App* FindCommand(CLI::App& app, std::string_view name) {
  auto found = app.get_subcommands([name](CLI::App* sub) { return sub->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

// CommandWordIndex returns the index of the command word in argv, or
// `argc` when there is none before "--".
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

// UnknownCommandMessage is the error for `word`, which is no command.
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

}  // namespace

Status CheckCommandWord(CLI::App& app, int argc, char** argv, std::vector<char*>* out_help_args) {
  out_help_args->clear();
  int word = CommandWordIndex(app, argc, argv);
  if (word >= argc) {
    return OkStatus();
  }
  std::string_view command = argv[word];
  if (command == "help") {
    // `help [COMMAND]` is `[COMMAND] --help`, after the global options.
    out_help_args->assign(argv, argv + word);
    if (word + 1 < argc && std::string_view(argv[word + 1]) != "help") {
      out_help_args->push_back(argv[word + 1]);
      command = argv[word + 1];
    }
    out_help_args->push_back(const_cast<char*>("--help"));
  }
  if (command != "help" && FindCommand(app, command) == nullptr) {
    out_help_args->clear();
    return ErrCode(ErrorCode::kUsage, "{}", UnknownCommandMessage(app, command));
  }
  return OkStatus();
}

}  // namespace bulkhead::cli
