// Wires a process group into a trainer: parameters broadcast from rank 0 once (all ranks start
// identical even if their initialisation differed), then every step's accumulated gradients are
// averaged over the ranks in the trainer's gradient hook, before clipping and the optimizer step.
// With equal per-rank batches this equals one process over the combined batch.
#pragma once
#include <memory>

#include "dist/process_group.h"
#include "train/trainer.h"

namespace da::dist {

void attach_data_parallel(train::Trainer& trainer, std::shared_ptr<ProcessGroup> group);

}  // namespace da::dist
