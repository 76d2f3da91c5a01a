// Secret: a move-only byte buffer for key material that wipes itself.
#ifndef BULKHEAD_UTIL_SECRET_H_
#define BULKHEAD_UTIL_SECRET_H_

#include <string>
#include <string_view>
#include <utility>

#include <openssl/crypto.h>

namespace bulkhead {

// Secret owns bytes that must never be logged and are cleansed (with
// OPENSSL_cleanse) when the Secret is destroyed or assigned over. It is
// move-only so that no stray copy outlives it.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  Secret(Secret&& other) noexcept : bytes_(std::move(other.bytes_)) { other.Wipe(); }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      Wipe();
      bytes_ = std::move(other.bytes_);
      other.Wipe();
    }
    return *this;
  }
  ~Secret() { Wipe(); }

  std::string_view view() const { return bytes_; }
  const char* data() const { return bytes_.data(); }
  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Wipe overwrites the bytes and leaves the Secret empty.
  void Wipe() {
    if (!bytes_.empty()) {
      OPENSSL_cleanse(bytes_.data(), bytes_.size());
    }
    bytes_.clear();
  }

 private:
  std::string bytes_;
};

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_SECRET_H_
