//===- GraphInfo.h - The self-description of a compiled graph ---*- C++ -*-===//
//
// A compiled decode graph carries one JSON string, the exported symbol
// `magicpig_graph_info` (docs/CompiledGraphABI.md): the attention it was
// compiled with, the sparsify options, the number of sparse layers and the
// memref type of every argument and result of each entry point. A caller
// (magicpig.compiled) reads it to lay out the result structs, to pass the
// right number of index buffers and to reject weights that do not match the
// graph, without re-parsing the IR.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TOOLS_MAGICPIG_COMPILE_GRAPHINFO_H
#define MAGICPIG_TOOLS_MAGICPIG_COMPILE_GRAPHINFO_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <string>

namespace magicpig_compile {

/// Name of the exported NUL-terminated string.
inline constexpr const char *kGraphInfoSymbol = "magicpig_graph_info";

/// The entry points of `module` (tensor or memref types, before lowering):
/// {"name": {"arguments": [...], "results": [...]}}, each type as
/// {"shape": [sizes, -1 for dynamic], "dtype": "f32" | "i64" | ...}, and the
/// number of sparse layers (index builds in the module).
llvm::json::Object describeEntryPoints(mlir::ModuleOp module);

/// Adds `text` to an LLVM-dialect module as the external constant
/// `magicpig_graph_info` (a NUL-terminated i8 array).
void embedGraphInfo(mlir::ModuleOp module, llvm::StringRef text);

} // namespace magicpig_compile

#endif // MAGICPIG_TOOLS_MAGICPIG_COMPILE_GRAPHINFO_H
