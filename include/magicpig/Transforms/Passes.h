//===- Passes.h - MagicPIG graph transformations ----------------*- C++ -*-===//

#ifndef MAGICPIG_TRANSFORMS_PASSES_H
#define MAGICPIG_TRANSFORMS_PASSES_H

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::magicpig {

#define GEN_PASS_DECL
#include "magicpig/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "magicpig/Transforms/Passes.h.inc"

/// The layer number of an attention op, and, after --magicpig-sparsify, of
/// each index argument and result of an entry point (docs/ABI.md).
inline constexpr llvm::StringLiteral kLayerAttrName = "magicpig.layer";

/// The first rule that `options` of --magicpig-sparsify break ("option
/// 'lsh-bits' must be in [1, 16], got 0"), or "" when they are valid; the
/// rules that need the module (dense layers beyond the last) are the pass's.
std::string checkSparsifyOptions(const MagicPIGSparsifyOptions &options);

} // namespace mlir::magicpig

#endif // MAGICPIG_TRANSFORMS_PASSES_H
