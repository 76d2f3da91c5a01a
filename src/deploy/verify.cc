#include "deploy/verify.h"

#include <charconv>

#include "util/fs.h"

namespace bulkhead::deploy {

Result<HostPort> ParseHostPort(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return ErrCode(ErrorCode::kUsage, "--verify {}: expected [IPv6]:PORT", text);
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) {
      return ErrCode(ErrorCode::kUsage, "--verify {}: expected HOST:PORT", text);
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (host.empty() || port.empty() || ec != std::errc() || ptr != port.data() + port.size() ||
      value == 0 || value > 65535) {
    return ErrCode(ErrorCode::kUsage, "--verify {}: expected HOST:PORT with a port 1..65535",
                   text);
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

bool SameCertificate(const crypto::CertInfo& served, const crypto::CertInfo& on_disk) {
  return !served.serial_der.empty() && served.serial_der == on_disk.serial_der &&
         !served.public_key_der.empty() && served.public_key_der == on_disk.public_key_der;
}

VerifyOutcome VerifyServed(const crypto::CertInfo& on_disk, const ProbeLeafFn& probe,
                           std::chrono::milliseconds wait, std::chrono::milliseconds interval,
                           const SleepFn& sleep) {
  VerifyOutcome out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto leaf = probe();
    if (leaf.ok()) {
      out.probed = true;
      out.served_serial = leaf->serial_hex;
      out.served_not_after = leaf->not_after;
      if (SameCertificate(*leaf, on_disk)) {
        out.match = true;
        out.message = fmt::format("serving the certificate on disk (serial {})", on_disk.serial_hex);
        return out;
      }
      out.message = fmt::format("serving serial {}, but the certificate on disk has serial {}",
                                leaf->serial_hex, on_disk.serial_hex);
    } else {
      out.message = leaf.error().message;
    }
    if (std::chrono::steady_clock::now() + interval > deadline) {
      return out;
    }
    if (!sleep(interval)) {
      out.message += " (interrupted)";
      return out;
    }
  }
}

Result<crypto::CertInfo> ReadLeafCertificate(const std::string& path) {
  BH_ASSIGN(std::string pem, ReadFileCapped(path, 1 << 20));
  auto chain = crypto::ParsePemChain(pem);
  if (!chain.ok()) {
    return chain.error().Wrap(path);
  }
  return std::move(chain->front());
}

}  // namespace bulkhead::deploy
