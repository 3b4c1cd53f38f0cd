// Errors that cross the native boundary carry a stable string code (ERR_*), mapped to
// DocAnonError in JavaScript. Only the core throws these; the binding translates them.
#pragma once
#include <stdexcept>
#include <string>

namespace da {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message)
      : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Stable codes: each one is a row of the error table in src/core/errors.ts (ERRORS), which gives
// its meaning, CLI exit status and HTTP status (test/unit/errors.test.ts checks every code here).
namespace code {
inline constexpr const char* kArgument = "ERR_ARGUMENT";
inline constexpr const char* kShape = "ERR_SHAPE";
inline constexpr const char* kDtype = "ERR_DTYPE";
inline constexpr const char* kDevice = "ERR_DEVICE";
inline constexpr const char* kWeights = "ERR_WEIGHTS";
inline constexpr const char* kSafetensors = "ERR_SAFETENSORS";
inline constexpr const char* kConfig = "ERR_CONFIG";
inline constexpr const char* kOom = "ERR_OOM";
inline constexpr const char* kDisposed = "ERR_DISPOSED";
inline constexpr const char* kAborted = "ERR_ABORTED";
inline constexpr const char* kIo = "ERR_IO";
inline constexpr const char* kUnsupported = "ERR_UNSUPPORTED";
inline constexpr const char* kInternal = "ERR_INTERNAL";
inline constexpr const char* kBusy = "ERR_BUSY";
inline constexpr const char* kTorch = "ERR_TORCH";  // any other libtorch error (c10::Error)
}  // namespace code

[[noreturn]] inline void fail(const char* c, const std::string& message) { throw Error(c, message); }

}  // namespace da
