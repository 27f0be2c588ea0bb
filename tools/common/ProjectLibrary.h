//===- ProjectLibrary.h - Find the project's runtime libraries -*- C++ -*-===//
//
// The tools locate libmagicpig_runtime.so and libmagicpig_cuda_runtime.so
// themselves, so that no path has to be given: next to the tool in
// <bin>/../lib (the build tree and an install alike), else in the build tree
// the tool was configured in (MAGICPIG_BUILD_LIBRARY_DIR).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TOOLS_COMMON_PROJECTLIBRARY_H
#define MAGICPIG_TOOLS_COMMON_PROJECTLIBRARY_H

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <string>

namespace magicpig_tools {

/// The path of the project library `fileName` for the tool run as `argv0`.
inline std::string findProjectLibrary(llvm::StringRef fileName,
                                      const char *argv0) {
  std::string executable = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&findProjectLibrary));
  llvm::SmallString<256> path(
      llvm::sys::path::parent_path(llvm::sys::path::parent_path(executable)));
  llvm::sys::path::append(path, "lib", fileName);
  if (llvm::sys::fs::exists(path))
    return std::string(path);
  path = MAGICPIG_BUILD_LIBRARY_DIR;
  llvm::sys::path::append(path, fileName);
  return std::string(path);
}

} // namespace magicpig_tools

#endif // MAGICPIG_TOOLS_COMMON_PROJECTLIBRARY_H
