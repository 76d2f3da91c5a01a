// `bulkhead serve`: REST API, metrics and dashboard over the inventory.
#include <asio.hpp>

#include <memory>

#include "cli/cli.h"
#include "inventory/inventory.h"
#include "serve/api.h"
#include "serve/checks.h"
#include "serve/server.h"
#include "util/fs.h"

namespace bulkhead::cli {
namespace {

// kMaxTokenFile caps the token file: a token is a line, not a document.
constexpr size_t kMaxTokenFile = 4096;

struct ServeOptions {
  std::string listen = "127.0.0.1:8440";
  std::string token_file;
  std::string db;
  int max_connections = 64;
  std::vector<std::string> allowed_hosts;
};

// ReadToken returns the token file's first line; fails if it is unreadable
// or empty.
Result<Secret> ReadToken(const std::string& path) {
  BH_ASSIGN(Secret raw, ReadSecretFileCapped(path, kMaxTokenFile));
  std::string_view v = raw.view();
  size_t end = v.find_first_of("\r\n");
  v = v.substr(0, end);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) {
    v.remove_suffix(1);
  }
  if (v.empty()) {
    return ErrCode(ErrorCode::kUsage, "token file {} is empty", path);
  }
  return Secret(std::string(v));
}

int RunServe(const GlobalFlags& flags, const ServeOptions& opts) {
  std::string spec = opts.db.empty() ? inventory::DefaultInventorySpec(StateDir(flags)) : opts.db;
  if (opts.db.empty()) {
    Status made = MakeDirs(StateDir(flags), 0700);
    if (!made.ok()) {
      return Fail(made.error());
    }
  }
  auto inv = inventory::OpenInventory(spec);
  if (!inv.ok()) {
    return Fail(inv.error());
  }
  Secret token;
  if (!opts.token_file.empty()) {
    auto t = ReadToken(opts.token_file);
    if (!t.ok()) {
      return Fail(t.error());
    }
    token = std::move(*t);
  }
  auto certs = std::make_unique<store::CertStore>(CertStoreFor(flags));
  inventory::Inventory* inv_ptr = inv->get();
  const store::CertStore* certs_ptr = certs.get();
  std::string ca_bundle = flags.ca_bundle_given ? AbsolutePath(flags.ca_bundle) : "";

  serve::ApiOptions api_opts;
  api_opts.inventory = inv_ptr;
  api_opts.certs = certs_ptr;
  api_opts.token = std::move(token);
  bool require_sandbox = flags.require_sandbox;
  api_opts.run_checks = [inv_ptr, certs_ptr, ca_bundle,
                         require_sandbox](const std::vector<int64_t>& ids, bool http_headers) {
    return serve::RunAndRecord(*inv_ptr, certs_ptr, ids, ca_bundle, require_sandbox, http_headers);
  };
  bool writable = !api_opts.token.empty();
  auto api = std::make_shared<serve::Api>(std::move(api_opts));

  asio::io_context io;
  serve::ServerLimits limits;
  limits.max_connections = opts.max_connections;
  limits.allowed_hosts = opts.allowed_hosts;
  serve::HttpServer server(io, limits,
                           [api](const serve::HttpRequest& req) { return api->Handle(req); });
  Status listening = server.Listen(opts.listen);
  if (!listening.ok()) {
    return Fail(listening.error());
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code&, int) {
    server.Stop();
    io.stop();
  });
  auto ep = serve::ParseListenAddress(opts.listen);
  std::string host = ep.ok() ? ep->address().to_string() : opts.listen;
  if (ep.ok() && ep->address().is_v6()) {
    host = "[" + host + "]";
  }
  fmt::print("bulkhead: serving http://{}:{}/ (inventory: {}; changes {})\n", host, server.port(),
             (*inv)->Backend(), writable ? "need the bearer token" : "disabled: no --token-file");
  std::fflush(stdout);
  io.run();
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, Cli& cli) {
  auto opts = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "REST API, Prometheus metrics and dashboard");
  cmd->add_option("--listen", opts->listen, "ADDRESS:PORT to listen on (default 127.0.0.1:8440)");
  cmd->add_option("--token-file", opts->token_file,
                  "file holding the bearer token required for changes (POST, DELETE)");
  cmd->add_option("--db", opts->db,
                  "inventory: SQLite file path or postgresql:// URI (default "
                  "<state-dir>/inventory.sqlite)");
  cmd->add_option("--max-connections", opts->max_connections, "concurrent connections (default 64)")
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--allowed-host", opts->allowed_hosts,
                  "Host header name to answer besides the listen address, localhost, 127.0.0.1 "
                  "and ::1 (repeatable; others get 421)");
  cmd->callback([&cli, opts] { cli.run = [&cli, opts] { return RunServe(cli.flags, *opts); }; });
}

}  // namespace bulkhead::cli
