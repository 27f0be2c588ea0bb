//===- FuseProducer.h - Fold an elementwise producer into its consumer ----===//
//
// The one elementwise fusion step that magicpig-contraction-loop-order (weight
// copies into matmuls) and magicpig-narrow-weights (bf16 widenings into
// their readers) both take, and the copies it folds.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_LIB_TRANSFORMS_FUSEPRODUCER_H
#define MAGICPIG_LIB_TRANSFORMS_FUSEPRODUCER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::magicpig {

/// Fuses the all-parallel linalg.generic that produces `operand` (an input
/// of a linalg.generic) into that consumer with upstream elementwise
/// fusion, erases both and returns the fused op. Fails, changing nothing,
/// when the pair is not fusable.
FailureOr<linalg::GenericOp> fuseProducerIntoConsumer(RewriterBase &rewriter,
                                                      OpOperand &operand);

/// True for an op that only moves elements of its single input: a
/// linalg.transpose, a linalg.broadcast, or an all-parallel linalg.generic
/// whose body yields its input, or its input widened by arith.extf (a
/// magicpig-narrow-weights weight), and whose output map is a permutation.
bool isPureCopy(Operation *op);

/// Rewrites each batch_matmul of a dynamic batch of single rows
/// ([B, 1, K]) against a broadcast weight into the rows of one batch
/// ([1, B, K]), the form of a prefill's projections (BatchAsRows.cpp).
void readBatchAsRows(Operation *root);

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_TRANSFORMS_FUSEPRODUCER_H
