#include "core/runtime.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <c10/util/Logging.h>

#include <mutex>

namespace da::runtime {

bool settle_nnpack() {
  static std::once_flag once;
  static bool in_use = false;
  std::call_once(once, [] {
    // c10's own logger (LOG(WARNING)) prints at or above this level; 2 = errors only.
    const int saved = FLAGS_caffe2_log_level;
    FLAGS_caffe2_log_level = 2;
    bool available = false;
    try {
      available = at::_nnpack_available();
    } catch (...) {
      available = false;
    }
    FLAGS_caffe2_log_level = saved;
    if (!available) at::globalContext().setUserEnabledNNPACK(false);
    in_use = available && at::globalContext().userEnabledNNPACK();
  });
  return in_use;
}

}  // namespace da::runtime
