//===- FuseProducer.h - Fold an elementwise producer into its consumer ----===//
//
// The one elementwise fusion step that magicpig-contraction-loop-order (weight
// copies into matmuls) and magicpig-narrow-weights (bf16 widenings into
// their readers) both take.
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

} // namespace mlir::magicpig

#endif // MAGICPIG_LIB_TRANSFORMS_FUSEPRODUCER_H
