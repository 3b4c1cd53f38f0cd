// Maps every exception that reaches the boundary to a JS DocAnonError with a stable code.
#pragma once
#include <napi.h>

#include <string>

namespace da::bind {

struct CapturedError {
  std::string code;
  std::string message;
  bool set() const { return !code.empty(); }
};

// Call from inside a catch (...) block: classifies the in-flight exception.
CapturedError capture_current_exception();

// Builds the JS error object (an instance of the registered DocAnonError class when available).
Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message);

// Throws a JS exception for a bad argument (use in synchronous entry points).
[[noreturn]] void throw_arg(Napi::Env env, const std::string& message);

// Wraps a synchronous entry point body so that C++ exceptions become JS DocAnonErrors.
template <typename F>
Napi::Value guarded(Napi::Env env, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    CapturedError e = capture_current_exception();
    throw make_error(env, e.code, e.message);
  }
}

}  // namespace da::bind
