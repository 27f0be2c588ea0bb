//===- IndexABI.h - Prefill and decode agree on the MagicPIG index -*- C++ -*-===//
//
// --magicpig-sparsify threads each sparse layer's index from prefill to
// decode through the signatures (docs/ABI.md), one function at a time: when
// raising declined a layer's attention in prefill but not in decode, prefill
// returns fewer buffers than decode takes, and a caller passing one to the
// other crashes. magicpig-compile checks the pairing before lowering.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_TOOLS_MAGICPIG_COMPILE_INDEXABI_H
#define MAGICPIG_TOOLS_MAGICPIG_COMPILE_INDEXABI_H

#include "mlir/IR/BuiltinOps.h"

namespace magicpig_compile {

/// Layers whose index the entry points of `module` return or take (the
/// arguments and results --magicpig-sparsify marked with `magicpig.layer`).
int64_t countIndexedLayers(mlir::ModuleOp module);

/// Checks that every entry point returning index buffers (a prefill)
/// returns what every entry point taking them (a decode) takes: the same
/// layers in the same order, four buffers each, of compatible types.
/// `prefill` and `decode`, the entry points of an exported model
/// (docs/model-export.md), are a pair even when one has no index at all.
/// Emits an error that names the first layer that differs.
mlir::LogicalResult verifyIndexABI(mlir::ModuleOp module);

} // namespace magicpig_compile

#endif // MAGICPIG_TOOLS_MAGICPIG_COMPILE_INDEXABI_H
