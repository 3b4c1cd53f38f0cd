// Process-wide libtorch settings that the addon and the C++ harness both apply once at start.
#pragma once

namespace da::runtime {

// libtorch logs "Could not initialize NNPACK! Reason: Unsupported hardware." from every
// convolution that asks whether NNPACK is usable, on CPUs NNPACK does not support (once per
// thread and more: the CLI and the tests sprayed it). Asks once, with libtorch's warnings
// silenced, and where NNPACK cannot run turns it off: no convolution changes (none could use it),
// and nothing asks again. Where it runs, nothing changes. Returns whether NNPACK is in use.
bool settle_nnpack();

}  // namespace da::runtime
