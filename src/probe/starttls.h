// The plain-text dialogues that precede a STARTTLS handshake, as a pure
// state machine (no I/O) so the probe engine drives it over asio and the
// tests drive it with byte strings.
#ifndef BULKHEAD_PROBE_STARTTLS_H_
#define BULKHEAD_PROBE_STARTTLS_H_

#include <string>
#include <string_view>

#include "probe/tls_probe.h"

namespace bulkhead::probe {

// kMaxStartTlsBytes caps what a server may send before the handshake: a
// hostile peer must not make us buffer without bound.
inline constexpr size_t kMaxStartTlsBytes = 16 * 1024;

// StartTlsDialog walks one protocol's upgrade. Usage: send Start()'s bytes
// (if any), then Feed() each chunk read until it returns kDone or kFailed,
// sending `*out_send` whenever it returns kSend.
class StartTlsDialog {
 public:
  enum class Step { kNeedMore, kSend, kDone, kFailed };

  explicit StartTlsDialog(StartTls mode);

  // Start returns the bytes the client speaks first ("" if it waits for a
  // server greeting). kNone is done at once: Done() is true.
  std::string Start();

  // Feed appends `data` and advances. On kSend, `*out_send` holds the next
  // bytes to write; on kFailed, `*out_error` says why (quoting at most a
  // short prefix of the server's reply).
  Step Feed(std::string_view data, std::string* out_send, std::string* out_error);

  bool Done() const { return stage_ == kFinished; }

 private:
  enum Stage { kGreeting, kCapabilities, kUpgrade, kFinished };

  Step FeedLineProtocol(std::string* out_send, std::string* out_error);
  Step FeedLdap(std::string* out_error);
  Step FeedPostgres(std::string* out_error);

  StartTls mode_;
  Stage stage_ = kGreeting;
  std::string buf_;
};

}  // namespace bulkhead::probe

#endif  // BULKHEAD_PROBE_STARTTLS_H_
