//===- ContractionLoopOrder.cpp - magicpig-contraction-loop-order ---------===//
//
// Generalizes linalg.matmul / linalg.batch_matmul, folds the copies that feed
// them (torch-mlir's nn.Linear weight transpose and its batch broadcast) into
// their indexing maps, and picks a loop order whose innermost loop walks
// memory contiguously. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "FuseProducer.h"

#include "magicpig/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::magicpig {
#define GEN_PASS_DEF_MAGICPIGCONTRACTIONLOOPORDER
#include "magicpig/Transforms/Passes.h.inc"
} // namespace mlir::magicpig

using namespace mlir;
using namespace mlir::magicpig;

namespace {

/// Fuses every single-use pure-copy producer of an input of `generic` into
/// it, so the contraction reads the copied tensor's source through a
/// composed indexing map. Returns the final op (`generic` itself when nothing fused).
linalg::GenericOp foldCopyProducers(RewriterBase &rewriter,
                                    linalg::GenericOp generic) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (OpOperand *operand : generic.getDpsInputOperands()) {
      // A copy with other users stays: fusing it would make the contraction
      // also yield the copy, rewritten on every reduction step.
      Operation *producer = operand->get().getDefiningOp();
      if (!isPureCopy(producer) || !producer->hasOneUse())
        continue;
      if (!isa<linalg::GenericOp>(producer)) {
        rewriter.setInsertionPoint(producer);
        if (failed(linalg::generalizeNamedOp(
                rewriter, cast<linalg::LinalgOp>(producer))))
          continue;
      }
      FailureOr<linalg::GenericOp> fused =
          magicpig::fuseProducerIntoConsumer(rewriter, *operand);
      if (failed(fused))
        continue;
      generic = *fused;
      changed = true;
      break;
    }
  }
  return generic;
}

/// Lets LLVM reassociate and contract the reduction of `generic`'s body, so
/// the innermost reduction loop (a dot product along contiguous rows)
/// vectorizes.
void allowReassociation(RewriterBase &rewriter, linalg::GenericOp generic) {
  auto flags = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  generic.getRegion().walk([&](Operation *op) {
    if (auto fm = dyn_cast<arith::ArithFastMathInterface>(op))
      rewriter.modifyOpInPlace(op, [&] {
        op->setAttr(fm.getFastMathAttrName(),
                    arith::FastMathFlagsAttr::get(op->getContext(), flags));
      });
  });
}

/// Generalizes `op`, folds its copy producers, then orders its loops:
/// - B indexed (..., k, j): swap the last two loops to (..., k, j), the
///   innermost loop walks rows of B and C;
/// - A and B both indexed (..., k) (B was a transposed weight): keep k
///   innermost, a dot product along rows of A and B, with the reduction
///   marked reassociable.
FailureOr<linalg::GenericOp> reorderContraction(RewriterBase &rewriter,
                                                linalg::LinalgOp op) {
  unsigned loops = op.getNumLoops();
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::GenericOp> generic =
      linalg::generalizeNamedOp(rewriter, op);
  if (failed(generic))
    return failure();
  linalg::GenericOp fused = foldCopyProducers(rewriter, *generic);
  SmallVector<AffineMap> maps = fused.getIndexingMapsArray();
  auto innermost = [&](AffineMap map) { return map.getResults().back(); };
  AffineExpr j = rewriter.getAffineDimExpr(loops - 2);
  AffineExpr k = rewriter.getAffineDimExpr(loops - 1);
  if (maps.size() != 3 || maps[1].getNumResults() < 2)
    return fused;
  if (innermost(maps[0]) == k && innermost(maps[1]) == k) {
    allowReassociation(rewriter, fused);
    return fused;
  }
  if (innermost(maps[1]) != j || innermost(maps[2]) != j)
    return fused;
  SmallVector<unsigned> order;
  for (unsigned i = 0; i + 2 < loops; ++i)
    order.push_back(i);
  order.push_back(loops - 1); // k
  order.push_back(loops - 2); // j
  return linalg::interchangeGenericOp(rewriter, fused, order);
}

struct MagicPIGContractionLoopOrderPass
    : magicpig::impl::MagicPIGContractionLoopOrderBase<
          MagicPIGContractionLoopOrderPass> {
  using Base::Base;

  void runOnOperation() override {
    readBatchAsRows(getOperation());
    SmallVector<linalg::LinalgOp> ops;
    getOperation()->walk([&](Operation *op) {
      // The named forms: their loops are (batch,) i, j, k whatever their
      // operand maps; reorderContraction reads the maps after fusion.
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
          cast<linalg::LinalgOp>(op).hasPureTensorSemantics())
        ops.push_back(cast<linalg::LinalgOp>(op));
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : ops)
      if (failed(reorderContraction(rewriter, op)))
        return signalPassFailure();
  }
};

} // namespace
