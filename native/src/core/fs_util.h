// File-system helpers that avoid std::filesystem::remove_all: PyTorch's CUDA wheels (seen with
// 2.11.0+cu130) export their own copy of that symbol from libtorch.so, which wins the dynamic
// symbol lookup and jumps to a null pointer. POSIX calls have no such interposition problem.
#pragma once
#include <string>

namespace da::fs {

// Removes a file or a directory tree; a missing path is not an error. Returns entries removed.
size_t remove_tree(const std::string& path);

}  // namespace da::fs
