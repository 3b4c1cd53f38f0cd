#include "core/fs_util.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace da::fs {
namespace {
thread_local size_t t_removed = 0;
int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  if (::remove(path) == 0) ++t_removed;
  return 0;  // keep going: remove what can be removed
}
}  // namespace

size_t remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  t_removed = 0;
  // Depth-first (FTW_DEPTH) so directories are empty when their turn comes; FTW_PHYS: never
  // follow symbolic links out of the tree.
  ::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS);
  return t_removed;
}

}  // namespace da::fs
