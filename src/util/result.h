// Result<T>: errors as values. A Result holds either a T or an Error; it never
// throws. Status is Result<void>.
#ifndef BULKHEAD_UTIL_RESULT_H_
#define BULKHEAD_UTIL_RESULT_H_

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace bulkhead {

// ErrorCode classifies an Error for callers that must react differently.
enum class ErrorCode {
  kFailure,    // Anything that went wrong at run time (exit status 1).
  kUsage,      // Bad command line or configuration (exit status 2).
  kNotFound,   // The thing asked for does not exist (a file, a certificate).
  kTransient,  // Worth retrying later: network error, 5xx, rate limit.
};

// Error is a human-readable message naming what failed, plus a code.
struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kFailure;

  // Wrap returns a copy whose message is prefixed with `context: `.
  Error Wrap(std::string_view context) const {
    return Error{fmt::format("{}: {}", context, message), code};
  }
};

// Err builds an Error from a fmt format string.
template <typename... Args>
Error Err(fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...), ErrorCode::kFailure};
}

// ErrCode is Err with an explicit code.
template <typename... Args>
Error ErrCode(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  return Error{fmt::format(f, std::forward<Args>(args)...), code};
}

// Result<T> holds a T on success or an Error on failure.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design.
  Result(Error error) : v_(std::move(error)) {}       // NOLINT: implicit by design.

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // value() and the dereference operators must only be used when ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // error() must only be used when !ok().
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> (Status) holds nothing on success or an Error on failure.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return err_; }

 private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

// OkStatus returns a successful Status.
inline Status OkStatus() { return Status(); }

}  // namespace bulkhead

// BH_TRY evaluates a Status expression and returns its error from the
// enclosing function if it failed.
#define BH_TRY(expr)                   \
  do {                                 \
    auto bh_try_status_ = (expr);      \
    if (!bh_try_status_.ok()) {        \
      return bh_try_status_.error();   \
    }                                  \
  } while (0)

#define BH_CONCAT_INNER_(a, b) a##b
#define BH_CONCAT_(a, b) BH_CONCAT_INNER_(a, b)

// BH_ASSIGN(lhs, expr) evaluates a Result<T> expression; on failure it
// returns the error, on success it moves the value into `lhs` (which may be a
// declaration such as `auto x`).
#define BH_ASSIGN(lhs, expr) BH_ASSIGN_IMPL_(BH_CONCAT_(bh_res_, __LINE__), lhs, expr)
#define BH_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                    \
  if (!tmp.ok()) {                      \
    return tmp.error();                 \
  }                                     \
  lhs = std::move(tmp).value()

#endif  // BULKHEAD_UTIL_RESULT_H_
