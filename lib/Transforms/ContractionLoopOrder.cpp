//===- ContractionLoopOrder.cpp - magicpig-contraction-loop-order ---------===//
//
// Generalizes linalg.matmul / linalg.batch_matmul and moves the reduction
// loop out of the innermost position: (batch,) i, j, k -> (batch,) i, k, j.
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGCONTRACTIONLOOPORDER
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;

namespace {

/// Generalizes `op` and swaps its last two loops (j, k) -> (k, j).
FailureOr<linalg::GenericOp> reorderContraction(RewriterBase &rewriter,
                                                linalg::LinalgOp op) {
  unsigned loops = op.getNumLoops();
  FailureOr<linalg::GenericOp> generic =
      linalg::generalizeNamedOp(rewriter, op);
  if (failed(generic))
    return failure();
  SmallVector<unsigned> order;
  for (unsigned i = 0; i + 2 < loops; ++i)
    order.push_back(i);
  order.push_back(loops - 1); // k
  order.push_back(loops - 2); // j
  return linalg::interchangeGenericOp(rewriter, *generic, order);
}

struct MagicPIGContractionLoopOrderPass
    : magicpig::impl::MagicPIGContractionLoopOrderBase<
          MagicPIGContractionLoopOrderPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](Operation *op) {
      // Only the plain named forms: their loops are (batch,) i, j, k with
      // B indexed (k, j) and C (i, j) in row-major memory.
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          cast<linalg::LinalgOp>(op).hasPureTensorSemantics())
        ops.push_back(cast<linalg::LinalgOp>(op));
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops) {
      // Transposed or broadcast operand maps are left in iterator order.
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      unsigned n = op.getNumLoops();
      auto dim = [&](unsigned d) {
        return getAffineDimExpr(d, op->getContext());
      };
      if (maps.size() != 3 || maps[1].getNumResults() < 2 ||
          maps[1].getResult(maps[1].getNumResults() - 1) != dim(n - 2) ||
          maps[2].getResult(maps[2].getNumResults() - 1) != dim(n - 2))
        continue;
      rewriter.setInsertionPoint(op);
      if (failed(reorderContraction(rewriter, op)))
        return signalPassFailure();
    }
  }
};

} // namespace
