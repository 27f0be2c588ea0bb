//===- Passes.h - MagicPIG graph transformations ----------------*- C++ -*-===//

#ifndef MAGICPIG_TRANSFORMS_PASSES_H
#define MAGICPIG_TRANSFORMS_PASSES_H

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir::magicpig {

#define GEN_PASS_DECL
#include "magicpig/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "magicpig/Transforms/Passes.h.inc"

} // namespace mlir::magicpig

#endif // MAGICPIG_TRANSFORMS_PASSES_H
