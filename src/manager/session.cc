#include "manager/session.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace bulkhead::manager {

Result<std::string> ResolveServer(std::string_view server) {
  if (server == "letsencrypt") {
    return std::string(kLetsEncrypt);
  }
  if (server == "letsencrypt-staging") {
    return std::string(kLetsEncryptStaging);
  }
  if (server.rfind("https://", 0) == 0 && server.size() > 8) {
    return std::string(server);
  }
  return ErrCode(ErrorCode::kUsage,
                 "--server must be an https:// directory URL, letsencrypt or letsencrypt-staging "
                 "(got \"{}\")",
                 std::string(server.substr(0, 200)));
}

namespace {

// CaHost returns the host of the CA's directory URL, without the brackets
// of an IPv6 literal ("" if the URL has none).
std::string CaHost(const std::string& url) {
  std::string origin = acme::UrlOrigin(url);
  size_t start = origin.find("://");
  if (start == std::string::npos) {
    return "";
  }
  std::string hostport = origin.substr(start + 3);
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    return close == std::string::npos ? "" : hostport.substr(1, close - 1);
  }
  return hostport.substr(0, hostport.find(':'));
}

// IsIpLiteral says whether `host` is an IPv4 or IPv6 address, which libcurl
// uses as is.
bool IsIpLiteral(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 ||
         ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

Status PinCaAddresses(CaConfig* ca) {
  std::string host = CaHost(ca->directory_url);
  if (host.empty()) {
    return ErrCode(ErrorCode::kUsage, "the CA's directory URL {} has no host",
                   ca->directory_url.substr(0, 200));
  }
  ca->pinned.clear();
  if (IsIpLiteral(host)) {
    return OkStatus();
  }
  struct addrinfo hints {};
  // Both families, and no AI_ADDRCONFIG: it would drop ::1 on a host whose
  // only IPv6 address is the loopback one.
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return ErrCode(rc == EAI_AGAIN ? ErrorCode::kTransient : ErrorCode::kFailure,
                   "cannot resolve the CA's host {} (from {}): {}", host.substr(0, 200),
                   ca->directory_url.substr(0, 200), ::gai_strerror(rc));
  }
  std::unique_ptr<struct addrinfo, decltype(&::freeaddrinfo)> owner(res, ::freeaddrinfo);
  std::vector<std::string> addresses;
  for (const struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* where = nullptr;
    if (ai->ai_family == AF_INET) {
      where = &reinterpret_cast<const struct sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      where = &reinterpret_cast<const struct sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    }
    if (where == nullptr || ::inet_ntop(ai->ai_family, where, text, sizeof(text)) == nullptr) {
      continue;
    }
    std::string a = ai->ai_family == AF_INET6 ? fmt::format("[{}]", text) : std::string(text);
    if (std::find(addresses.begin(), addresses.end(), a) == addresses.end()) {
      addresses.push_back(std::move(a));
    }
  }
  if (addresses.empty()) {
    return Err("cannot resolve the CA's host {} (from {}): no IPv4 or IPv6 address",
               host.substr(0, 200), ca->directory_url.substr(0, 200));
  }
  std::string entry = fmt::format("{}:{}:", host, roles::CaPort(*ca));
  for (size_t i = 0; i < addresses.size(); ++i) {
    entry += (i == 0 ? "" : ",") + addresses[i];
  }
  ca->pinned.push_back(std::move(entry));
  return OkStatus();
}

Result<store::AccountStore> AccountStoreFor(const std::string& state_dir, const CaConfig& ca,
                                            std::string_view account_name) {
  BH_ASSIGN(std::string ca_dir, store::CaDirName(ca.directory_url));
  return store::AccountStore(
      fmt::format("{}/accounts/{}/{}", state_dir, ca_dir, std::string(account_name)));
}

}  // namespace bulkhead::manager
