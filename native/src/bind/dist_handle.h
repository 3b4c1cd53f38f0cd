// The process-group handle shared by the distributed binding (creates it) and the trainer binding
// (attaches it to a trainer): an opaque, type-tagged external holding the group.
#pragma once
#include <napi.h>

#include <memory>

#include "dist/process_group.h"

namespace da::bind {

std::shared_ptr<dist::ProcessGroup> process_group_from(const Napi::Value& v);

}  // namespace da::bind
