#include "probe/tls_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <memory>

#include "probe/engine.h"

namespace bulkhead::probe {
namespace {

struct AddrInfoFree {
  void operator()(addrinfo* ai) const { freeaddrinfo(ai); }
};

}  // namespace

bool IsIpLiteral(std::string_view host) {
  std::string h(host);
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

Result<std::vector<std::string>> ResolveAddresses(const std::string& host) {
  if (IsIpLiteral(host)) {
    return std::vector<std::string>{host};
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* raw = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  std::unique_ptr<addrinfo, AddrInfoFree> list(raw);
  if (rc != 0) {
    return ErrCode(ErrorCode::kTransient, "{}: resolving: {}", host, gai_strerror(rc));
  }
  std::vector<std::string> out;
  for (addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src = nullptr;
    if (ai->ai_family == AF_INET) {
      src = &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr;
    } else if (ai->ai_family == AF_INET6) {
      src = &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (inet_ntop(ai->ai_family, src, text, sizeof(text)) == nullptr) {
      continue;
    }
    if (std::find(out.begin(), out.end(), text) == out.end()) {
      out.emplace_back(text);
    }
  }
  if (out.empty()) {
    return ErrCode(ErrorCode::kTransient, "{}: resolving: no address", host);
  }
  return out;
}

Result<ProbeResult> ProbeTls(const ProbeRequest& request) {
  std::vector<std::string> addresses;
  if (!request.address.empty()) {
    addresses.push_back(request.address);
  } else {
    BH_ASSIGN(addresses, ResolveAddresses(request.host));
  }
  // The same engine as `monitor`, one request at a time: the first address
  // that yields a chain wins, as an ordinary client would connect.
  Result<ProbeResult> last = Err("{}: no address", request.host);
  for (const std::string& address : addresses) {
    std::vector<ProbeRequest> one{request};
    one[0].address = address;
    BH_ASSIGN(auto results, ProbeAll(one, EngineOptions{.concurrency = 1, .on_done = nullptr}));
    last = std::move(results[0]);
    if (last.ok()) {
      return last;
    }
  }
  return last;
}

}  // namespace bulkhead::probe
