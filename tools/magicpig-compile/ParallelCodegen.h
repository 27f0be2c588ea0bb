//===- ParallelCodegen.h - Optimize and compile entry points in parallel -===//
//
// A compiled model has two large functions (prefill, decode) that LLVM
// optimizes and compiles one after the other on one core. This splits the
// module into one partition per group of public entry points (a function
// and its _mlir_ciface_ wrapper), each a full copy of the module in which
// the other groups' functions are only declared, and optimizes and compiles
// the partitions in parallel threads, each in its own LLVMContext, into one
// object file each.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TOOLS_MAGICPIG_COMPILE_PARALLELCODEGEN_H
#define MAGICPIG_TOOLS_MAGICPIG_COMPILE_PARALLELCODEGEN_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Module.h"

#include <string>

namespace magicpig_compile {

/// Entry-point groups of `module` (defined, externally visible functions
/// other than the C wrappers, each with its wrapper).
unsigned countEntryGroups(const llvm::Module &module);

/// Optimizes (`optLevel`) and compiles `module` into `objectPaths.size()`
/// object files, one per partition, in as many threads. Exported data,
/// mutable state (made hidden) and the global constructors and destructors
/// live in the first partition only; read-only local data and internal
/// functions are copied where used. Returns an error message, empty on
/// success.
std::string
compileInParallel(const llvm::Module &module,
                  const llvm::orc::JITTargetMachineBuilder &builder,
                  unsigned optLevel, llvm::ArrayRef<std::string> objectPaths);

} // namespace magicpig_compile

#endif // MAGICPIG_TOOLS_MAGICPIG_COMPILE_PARALLELCODEGEN_H
