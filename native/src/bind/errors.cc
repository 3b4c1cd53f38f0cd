#include "bind/errors.h"

#include <c10/util/Exception.h>

#include <new>

#include "bind/addon_data.h"
#include "core/error.h"

namespace da::bind {

CapturedError capture_current_exception() {
  try {
    throw;
  } catch (const da::Error& e) {
    return {e.code(), e.what()};
  } catch (const c10::OutOfMemoryError& e) {
    return {code::kOom, std::string("out of memory: ") + e.what_without_backtrace()};
  } catch (const c10::TypeError& e) {
    return {code::kDtype, e.what_without_backtrace()};
  } catch (const c10::IndexError& e) {
    return {code::kArgument, e.what_without_backtrace()};
  } catch (const c10::ValueError& e) {
    return {code::kArgument, e.what_without_backtrace()};
  } catch (const c10::Error& e) {
    // libtorch's CPU allocator reports a failed allocation as a plain c10::Error.
    const std::string msg = e.what_without_backtrace();
    if (msg.find("can't allocate memory") != std::string::npos) return {code::kOom, "out of memory: " + msg};
    // Other libtorch errors (mostly shape or device mismatches inside an op): keep torch's message.
    return {code::kTorch, msg};
  } catch (const std::bad_alloc&) {
    return {code::kOom, "out of memory: an allocation failed"};
  } catch (const std::exception& e) {
    return {code::kInternal, e.what()};
  } catch (...) {
    return {code::kInternal, "unknown native exception"};
  }
}

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  AddonData& d = addon_data(env);
  if (!d.error_class.IsEmpty()) {
    try {
      Napi::Object obj = d.error_class.New({Napi::String::New(env, code), Napi::String::New(env, message)});
      return Napi::Error(env, obj);
    } catch (const Napi::Error&) {
      // The registered class could not construct one (not a constructor, or it threw): the plain
      // Error below still carries the code, and no JavaScript exception is left pending.
    }
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

void throw_arg(Napi::Env env, const std::string& message) { throw make_error(env, code::kArgument, message); }

}  // namespace da::bind
