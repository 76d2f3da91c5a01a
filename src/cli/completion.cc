// `bulkhead completion bash|zsh`: prints a shell completion script made
// from the command table itself (the CLI11 App as main.cc built it), so the
// completions cannot drift from the options that exist. Hidden from --help:
// it is for packagers and `cmake --install`, not for daily use.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "cli/cli.h"

namespace bulkhead::cli {
namespace {

// CommandEntry is one node of the command tree: its path from the root
// ("bulkhead", "bulkhead account", ...), the names of its visible
// subcommands, its option names, and the option names that take a value
// (after which a completion offers file names, not options).
struct CommandEntry {
  std::string path;
  std::vector<std::string> subcommands;
  std::vector<std::string> options;
  std::vector<std::string> value_options;
};

// Visible reports whether a subcommand appears in --help; hidden ones
// (this one) are left out of the completions too.
bool Visible(const CLI::App* sub) { return !sub->get_group().empty(); }

// Collect appends `app` and, depth first, its visible subcommands.
void Collect(const CLI::App& app, const std::string& path, std::vector<CommandEntry>& out) {
  CommandEntry e;
  e.path = path;
  for (const CLI::Option* opt : app.get_options()) {
    if (!opt->nonpositional()) {
      continue;
    }
    // CLI11 keeps names without their dashes.
    std::vector<std::string> names;
    for (const std::string& n : opt->get_lnames()) {
      names.push_back("--" + n);
    }
    for (const std::string& n : opt->get_snames()) {
      names.push_back("-" + n);
    }
    for (const std::string& n : names) {
      e.options.push_back(n);
      if (opt->get_expected_max() > 0) {
        e.value_options.push_back(n);
      }
    }
  }
  std::vector<const CLI::App*> subs =
      app.get_subcommands([](const CLI::App* s) { return Visible(s); });
  for (const CLI::App* s : subs) {
    e.subcommands.push_back(s->get_name());
  }
  out.push_back(std::move(e));
  for (const CLI::App* s : subs) {
    Collect(*s, path + " " + s->get_name(), out);
  }
}

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (const std::string& w : words) {
    s += (s.empty() ? "" : " ") + w;
  }
  return s;
}

// The walk both shells do: go through the words before the cursor, follow
// subcommand names down the tree, skip each option's value, and stop
// completing after "--" (what follows belongs to reload-watch --exec's
// program). Global options are accepted after a subcommand too
// (main.cc's fallthrough), so they are offered at every level.
constexpr const char* kBashFunction = R"(_bulkhead() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local cmdpath=bulkhead w i=1
  COMPREPLY=()
  while [ "$i" -lt "$COMP_CWORD" ]; do
    w=${COMP_WORDS[i]}
    i=$((i + 1))
    case $w in
      --) return 0 ;;
      -*)
        case " ${_bulkhead_valopts[$cmdpath]} ${_bulkhead_valopts[bulkhead]} " in
          *" $w "*) i=$((i + 1)) ;;
        esac ;;
      *)
        case " ${_bulkhead_subs[$cmdpath]} " in
          *" $w "*) cmdpath="$cmdpath $w" ;;
        esac ;;
    esac
  done
  # An option's value: leave it to the default (file name) completion.
  case " ${_bulkhead_valopts[$cmdpath]} ${_bulkhead_valopts[bulkhead]} " in
    *" $prev "*) return 0 ;;
  esac
  case $cur in
    -*) mapfile -t COMPREPLY < <(compgen -W "${_bulkhead_opts[$cmdpath]} ${_bulkhead_opts[bulkhead]}" -- "$cur") ;;
    *) mapfile -t COMPREPLY < <(compgen -W "${_bulkhead_subs[$cmdpath]}" -- "$cur") ;;
  esac
  return 0
}
complete -o default -F _bulkhead bulkhead
)";

constexpr const char* kZshFunction = R"(_bulkhead_complete() {
  local cmdpath=bulkhead w prev=${words[CURRENT-1]} cur=${words[CURRENT]}
  local -a cand
  local i=2
  while (( i < CURRENT )); do
    w=${words[i]}
    (( i++ ))
    case $w in
      --) _files; return ;;
      -*)
        case " ${_bulkhead_valopts[$cmdpath]} ${_bulkhead_valopts[bulkhead]} " in
          *" $w "*) (( i++ )) ;;
        esac ;;
      *)
        case " ${_bulkhead_subs[$cmdpath]} " in
          *" $w "*) cmdpath="$cmdpath $w" ;;
        esac ;;
    esac
  done
  case " ${_bulkhead_valopts[$cmdpath]} ${_bulkhead_valopts[bulkhead]} " in
    *" $prev "*) _files; return ;;
  esac
  if [[ $cur == -* ]]; then
    cand=(${=_bulkhead_opts[$cmdpath]} ${=_bulkhead_opts[bulkhead]})
    compadd -a cand
    return
  fi
  cand=(${=_bulkhead_subs[$cmdpath]})
  if (( ${#cand} )); then
    compadd -a cand
  else
    _files
  fi
}
_bulkhead_complete "$@"
)";

// Table prints one associative array, keyed by command path.
std::string Table(const char* declare, const char* name, const std::vector<CommandEntry>& tree,
                  std::vector<std::string> CommandEntry::*field) {
  std::string s = fmt::format("{} {}=(\n", declare, name);
  for (const CommandEntry& e : tree) {
    s += fmt::format("  ['{}']='{}'\n", e.path, Join(e.*field));
  }
  return s + ")\n";
}

// Script returns the completion script for `shell`, or an empty string for
// a shell it does not know.
std::string Script(const CLI::App& root, const std::string& shell) {
  std::vector<CommandEntry> tree;
  Collect(root, "bulkhead", tree);
  std::string head;
  std::string declare;
  const char* function = nullptr;
  if (shell == "bash") {
    head = "# bash completion for bulkhead (generated by `bulkhead completion bash`).\n";
    declare = "declare -gA";
    function = kBashFunction;
  } else if (shell == "zsh") {
    head =
        "#compdef bulkhead\n"
        "# zsh completion for bulkhead (generated by `bulkhead completion zsh`).\n";
    declare = "typeset -gA";
    function = kZshFunction;
  } else {
    return "";
  }
  return head + Table(declare.c_str(), "_bulkhead_subs", tree, &CommandEntry::subcommands) +
         Table(declare.c_str(), "_bulkhead_opts", tree, &CommandEntry::options) +
         Table(declare.c_str(), "_bulkhead_valopts", tree, &CommandEntry::value_options) +
         function;
}

}  // namespace

void AddCompletionCommand(CLI::App& app, Cli& cli) {
  auto shell = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("completion", "print a shell completion script");
  // An empty group hides it from --help (and from the completions).
  cmd->group("");
  cmd->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  cmd->callback([&cli, &app, shell] {
    cli.run = [&app, shell] {
      std::string script = Script(app, *shell);
      if (script.empty()) {
        return kExitUsage;
      }
      fmt::print("{}", script);
      return kExitOk;
    };
  });
}

}  // namespace bulkhead::cli
